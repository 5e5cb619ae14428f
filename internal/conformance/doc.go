// Package conformance is wspeer's own WebSocket conformance suite, written
// from RFC 6455, RFC 7692 and the public case list of the Autobahn TestSuite
// (sections 1-7, 9, 10, 12 and 13: framing, pings and pongs, reserved bits,
// opcodes, fragmentation, UTF-8 handling with fail-fast detection, close
// handling, limits up to 16 MiB, auto-fragmentation, and permessage-deflate
// with five payload types and seven offer/answer parameter combinations).
//
// The suite speaks raw bytes, so it can send any malformed input, and runs in
// both roles: as a client against a server's echo endpoint (RunClient), and
// as an Autobahn-protocol fuzzingserver against a client that echoes
// (Server). Each case gets a verdict as Autobahn gives it: OK, NON-STRICT,
// FAILED, INFORMATIONAL or UNIMPLEMENTED (compression not negotiated), and a
// Report prints per-section counts.
//
// The suite's own wire code (frames, masking, handshake, extension
// negotiation, UTF-8 checks of what the peer sends) does not use the library
// it tests; compression is compress/flate's, and the suite checks the
// back-reference distances of what the peer compresses against the window
// it agreed to with its own DEFLATE walker.
package conformance
