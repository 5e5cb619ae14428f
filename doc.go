// Package wspeer is Godot's WebSocketPeer for Go: one WebSocket connection
// (RFC 6455), client or server side, driven by Poll, with bounded buffers.
//
// A Peer connects with ConnectToURL (ws:// and wss://) or takes over an
// accepted connection with AcceptStream (a TCP or TLS stream, or any net.Conn).
// Nothing blocks: name resolution, connect, TLS and the opening handshake
// progress inside Poll, each bounded by a timeout, and their failures show up
// as the CLOSED state with CloseError saying why. The application sees state
// changes only inside Poll, the send methods, Close, ConnectToURL and
// AcceptStream, which suits single-threaded game-style loops; every method is
// nevertheless safe for concurrent use.
//
// Three ways to drive a peer:
//
//   - Poll from your own loop (a game frame, a ticker, one loop over many
//     peers), as in Godot. An idle peer holds no goroutine and no read buffer.
//   - Wait, which parks on the runtime's network poller until Poll has work:
//     for p.Wait(ctx) == nil { p.Poll(); ... } is a complete connection loop.
//   - A Poller, which waits for many peers at once: a Godot-style server loop
//     over thousands of connections on one goroutine, without spinning.
//
// A server inside net/http gets OPEN peers from Upgrader.Upgrade. Run such a
// peer's Wait loop in the handler, or on a context of the server's lifetime:
// r.Context() ends when the handler returns, after which Wait returns at once
// and the peer is left OPEN with nothing driving it.
//
// # Godot to Go
//
//	WebSocketPeer.new()                      NewPeer()
//	inbound_buffer_size, outbound_buffer_size Peer.InboundBufferSize, Peer.OutboundBufferSize
//	max_queued_packets                       Peer.MaxQueuedPackets
//	supported_protocols, handshake_headers   Peer.SupportedProtocols, Peer.HandshakeHeaders
//	heartbeat_interval                       Peer.HeartbeatInterval
//	connect_to_url(url, tls_options)         (*Peer).ConnectToURL(url, *tls.Config)
//	accept_stream(stream)                    (*Peer).AcceptStream(net.Conn)
//	poll()                                   (*Peer).Poll()
//	get_ready_state()                        (*Peer).ReadyState()
//	get_available_packet_count()             (*Peer).AvailablePacketCount()
//	get_packet() / get_packet_error()        (*Peer).GetPacket() ([]byte, error)
//	put_packet(p)                            (*Peer).PutPacket(p)
//	put_var(v) / get_var()                   (*Peer).PutVar(v), (*Peer).GetVar() (package godot)
//	send(msg, mode), send_text(s)            (*Peer).Send(msg, mode), (*Peer).SendText(s)
//	was_string_packet()                      (*Peer).WasStringPacket()
//	close(code, reason)                      (*Peer).Close(code, reason) error
//	get_close_code(), get_close_reason()     (*Peer).CloseCode(), (*Peer).CloseReason()
//	get_connected_host(), _port()            (*Peer).ConnectedHost(), (*Peer).ConnectedPort()
//	get_current_outbound_buffered_amount()   (*Peer).CurrentOutboundBufferedAmount()
//	get_requested_url(), get_selected_protocol() (*Peer).RequestedURL(), (*Peer).SelectedProtocol()
//	set_no_delay(enabled)                    (*Peer).SetNoDelay(enabled) error
//	ERR_INVALID_PARAMETER                    ErrInvalidParameter
//	ERR_ALREADY_IN_USE                       ErrInUse
//	FAILED (send when not open)              ErrNotOpen
//	ERR_OUT_OF_MEMORY (buffer full)          ErrBufferFull (full now), ErrTooLarge (never fits)
//	ERR_UNAVAILABLE (no packet)              ErrNoPacket
//
// # The browser build
//
// Compiled with GOOS=js GOARCH=wasm, Peer has the same API over the browser's
// WebSocket, with the browser's limits: no AcceptStream, no custom handshake
// headers, no heartbeat (the browser answers pings), close codes 1000 and
// 3000-4999 only. Poll applies what the browser's events reported, so state
// still changes only inside the calls, and Wait parks until an event comes.
//
// Beyond Godot: Wait, CloseError (with sentinels such as ErrDial,
// ErrHandshake, ErrHandshakeTimeout, ErrProtocol, ErrHeartbeatTimeout,
// ErrConnectionLost), RequestHeader and ResponseHeader, HTTP error answers to
// bad requests, and timeouts everywhere. COMPATIBILITY.md in the repository
// lists every difference from Godot and why.
package wspeer
