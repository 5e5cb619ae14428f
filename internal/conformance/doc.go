// Package conformance is wspeer's own WebSocket conformance suite, written
// from RFC 6455 and the public case list of the Autobahn TestSuite (sections
// 1-7, 9 and 10: framing, pings and pongs, reserved bits, opcodes,
// fragmentation, UTF-8 handling with fail-fast detection, close handling,
// limits up to 16 MiB and auto-fragmentation).
//
// The suite speaks raw bytes, so it can send any malformed input, and runs in
// both roles: as a client against a server's echo endpoint (RunClient), and
// as an Autobahn-protocol fuzzingserver against a client that echoes
// (Server). Each case gets a verdict as Autobahn gives it: OK, NON-STRICT,
// FAILED or INFORMATIONAL, and a Report prints per-section counts.
//
// The suite's own wire code (frames, masking, handshake, UTF-8 checks of what
// the peer sends) does not use the library it tests.
package conformance
