extends SceneTree
# The Godot 3 side of wspeer's interop tests (see ../godot_test.go): Godot's
# own WebSocketClient and WebSocketServer, run headless:
#   godot3-server --no-window --path interop/godot -s peer.gd MODE ARGS...
# MODE:
#   client URL                     agent client (offers x-unknown, echo.v2, echo.v1)
#   server PORT                    agent server on 127.0.0.1:PORT (supports
#                                  echo.v1, echo.v2), prints "listening PORT"
#   drive-client URL PROTOS STEP... client offering PROTOS (comma separated,
#                                  "-" for none) that runs the STEPs
#   drive-server PORT PROTOS STEP... server that runs the STEPs with its first
#                                  client, then exits when that client is gone
# The agents follow ../scenario.go: echo every message with its type, obey
# "cmd:" commands. STEPs: send:text:N and send:binary:N (N bytes of the
# patterns of ../scenario.go), send:invalid-utf8 (a text message of "hi" and
# byte 0xFF), recv:K (wait until K messages have arrived in
# all), idle:MS, close (close with 4000 "bye ✓"). After the last step a driver
# waits for the connection to end.
# Events are JSON lines on stdout:
#   {"event":"open","protocol":p}
#   {"event":"message","text":t,"len":n,"sha256":h}    (drivers only)
#   {"event":"close_request","code":c,"reason":r}      the other side's close frame
#   {"event":"close","code":c,"reason":r,"clean":b,"initiated":i}
#   {"event":"fail","what":w}                          then exit status 1
# In "close", code and reason are those of close_request (-1 and "" when Godot
# reported none) and initiated says whether this side closed first. The limits
# of project.godot let messages up to 16 MiB through. The environment variable
# WSPEER_GODOT_TIMEOUT_MS (default 30000) bounds the run: then exit status 3.

const CLIENT_PROTOCOLS = ["x-unknown", "echo.v2", "echo.v1"]
const SERVER_PROTOCOLS = ["echo.v1", "echo.v2"]
const CLOSE_CODE = 4000
const CLOSE_REASON = "bye ✓"

var ws = null # WebSocketClient or WebSocketServer
var is_server = false
var agent = true
var steps = []
var step = 0
var step_started = 0
var driven = 0 # driver: the peer id the steps run with (1 for a client)
var peers = {} # id -> {"protocol", "code", "reason", "initiated"}
var payloads = {} # step index -> PoolByteArray to send
var received = 0
var deadline = 0


func _init():
	var args = OS.get_cmdline_args()
	var i = 0
	while i < args.size() and not args[i].ends_with("peer.gd"):
		i += 1
	args = _tail(args, i + 1)
	var timeout = int(OS.get_environment("WSPEER_GODOT_TIMEOUT_MS"))
	if timeout <= 0:
		timeout = 30000
	deadline = OS.get_ticks_msec() + timeout
	if args.size() < 2:
		_fail("usage: MODE ARGS... (see the header of peer.gd)")
		return
	var mode = args[0]
	if mode == "client":
		_start_client(args[1], CLIENT_PROTOCOLS)
	elif mode == "server":
		_start_server(int(args[1]), SERVER_PROTOCOLS)
	elif (mode == "drive-client" or mode == "drive-server") and args.size() >= 3:
		agent = false
		steps = _tail(args, 3)
		_prepare()
		var protos = [] if args[2] == "-" else args[2].split(",")
		if mode == "drive-client":
			_start_client(args[1], protos)
		else:
			_start_server(int(args[1]), protos)
	else:
		_fail("unknown mode " + mode)


func _start_client(url, protocols):
	ws = WebSocketClient.new()
	ws.connect("connection_established", self, "_on_client_open")
	ws.connect("server_close_request", self, "_on_client_close_request")
	ws.connect("connection_closed", self, "_on_client_closed")
	ws.connect("connection_error", self, "_on_client_error")
	var err = ws.connect_to_url(url, PoolStringArray(protocols))
	if err != OK:
		_fail("connect_to_url %s: error %d" % [url, err])


func _start_server(port, protocols):
	is_server = true
	ws = WebSocketServer.new()
	ws.bind_ip = "127.0.0.1"
	ws.connect("client_connected", self, "_on_open")
	ws.connect("client_close_request", self, "_on_close_request")
	ws.connect("client_disconnected", self, "_on_closed")
	var err = ws.listen(port, PoolStringArray(protocols))
	if err != OK:
		_fail("listen on port %d: error %d" % [port, err])
		return
	print("listening %d" % port)


func _on_client_open(protocol):
	_on_open(1, protocol)


func _on_client_close_request(code, reason):
	_on_close_request(1, code, reason)


func _on_client_closed(clean):
	_on_closed(1, clean)


func _on_client_error():
	_emit({"event": "close", "code": -1, "reason": "", "clean": false, "initiated": false})
	_fail("connection_error")


func _on_open(id, protocol):
	peers[id] = {"protocol": protocol, "code": -1, "reason": "", "initiated": false}
	if driven == 0 and (not agent or not is_server):
		driven = id
		step_started = OS.get_ticks_msec()
	_emit({"event": "open", "protocol": protocol})


func _on_close_request(id, code, reason):
	if peers.has(id):
		peers[id]["code"] = code
		peers[id]["reason"] = reason
	_emit({"event": "close_request", "code": code, "reason": reason})


func _on_closed(id, clean):
	var st = peers.get(id, {"code": -1, "reason": "", "initiated": false})
	peers.erase(id)
	_emit({"event": "close", "code": st["code"], "reason": st["reason"], "clean": clean,
			"initiated": st["initiated"]})
	if not is_server or id == driven:
		quit(0)


func _idle(_delta):
	if OS.get_ticks_msec() > deadline:
		_emit({"event": "fail", "what": "timeout"})
		quit(3)
		return true
	if ws == null:
		return false
	ws.poll()
	for id in peers.keys():
		_drain(id)
	if driven != 0 and peers.has(driven):
		_run_steps()
	return false


# _drain handles every message that has arrived from peer id.
func _drain(id):
	if not peers.has(id):
		return
	var p = ws.get_peer(id)
	while p.get_available_packet_count() > 0:
		var pkt = p.get_packet()
		var text = p.was_string_packet()
		if agent:
			_agent(id, p, pkt, text)
			continue
		received += 1
		var h = HashingContext.new()
		h.start(HashingContext.HASH_SHA256)
		if pkt.size() > 0:
			h.update(pkt)
		_emit({"event": "message", "text": text, "len": pkt.size(), "sha256": h.finish().hex_encode()})


func _agent(id, p, pkt, text):
	var cmd = ""
	if text and pkt.size() <= 64:
		cmd = pkt.get_string_from_utf8()
	if not cmd.begins_with("cmd:"):
		_send(p, pkt, text)
	elif cmd == "cmd:hello":
		var hello = {"protocol": peers[id]["protocol"], "extensions": "?", "pings": -1}
		_send(p, JSON.print(hello).to_utf8(), true)
	elif cmd == "cmd:ping":
		_send(p, "pong:unsupported".to_utf8(), true) # Godot 3 has no ping API
	elif cmd.begins_with("cmd:burst:"):
		for i in range(int(cmd.substr(10, 20))):
			_send(p, ("burst-%04d" % i).to_utf8(), true)
	elif cmd == "cmd:close":
		_close(id)
	else:
		_send(p, ("unknown command " + cmd).to_utf8(), true)


func _send(p, data, text):
	if text:
		p.set_write_mode(WebSocketPeer.WRITE_MODE_TEXT)
	else:
		p.set_write_mode(WebSocketPeer.WRITE_MODE_BINARY)
	var err = p.put_packet(data)
	if err != OK:
		_fail("put_packet of %d bytes: error %d" % [data.size(), err])


func _close(id):
	peers[id]["initiated"] = true
	if is_server:
		ws.disconnect_peer(id, CLOSE_CODE, CLOSE_REASON)
	else:
		ws.disconnect_from_host(CLOSE_CODE, CLOSE_REASON)


# _run_steps runs the driver's steps that can run now.
func _run_steps():
	while step < steps.size():
		var s = steps[step].split(":")
		if s[0] == "recv":
			if received < int(s[1]):
				return
		elif s[0] == "idle":
			if OS.get_ticks_msec() - step_started < int(s[1]):
				return
		elif steps[step] == "send:invalid-utf8": # Godot 3 does not check
			_send(ws.get_peer(driven), PoolByteArray([0x68, 0x69, 0xFF]), true)
		elif s[0] == "send" and s.size() == 3:
			_send(ws.get_peer(driven), payloads[step], s[1] == "text")
		elif s[0] == "close":
			_close(driven)
		else:
			_fail("unknown step " + steps[step])
			return
		step += 1
		step_started = OS.get_ticks_msec()


# _prepare generates the payloads of the send steps before connecting: a
# megabyte takes GDScript a noticeable time, during which nothing is polled
# (and pings would go unanswered).
func _prepare():
	for i in range(steps.size()):
		var s = steps[i].split(":")
		if s[0] != "send" or s.size() != 3:
			continue
		if s[1] == "text":
			payloads[i] = text_pattern(int(s[2]))
		else:
			payloads[i] = pattern(int(s[2]))


# pattern is scenario.go's pattern(n): byte i is i*7 + i/251 (mod 256). It
# repeats every 256*251 bytes: one period is computed, then copied.
func pattern(n):
	var b = PoolByteArray()
	b.resize(min(n, 256 * 251))
	for i in range(b.size()):
		b[i] = (i * 7 + i / 251) & 255
	while b.size() < n:
		var copy = b
		b.append_array(copy)
	b.resize(n)
	return b


# text_pattern is scenario.go's textPattern(n): "aé€😀" (1+2+3+4 bytes of
# UTF-8) repeated, padded with "z" to exactly n bytes.
func text_pattern(n):
	var unit = PoolByteArray([0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80])
	var b = PoolByteArray()
	var count = n / unit.size()
	while count > 0: # binary doubling: log(n) appends
		if count & 1:
			b.append_array(unit)
		var copy = unit
		unit.append_array(copy)
		count >>= 1
	while b.size() < n:
		b.append(0x7A)
	return b


# _tail returns the elements of a from index i on.
func _tail(a, i):
	var out = []
	for j in range(i, a.size()):
		out.append(a[j])
	return out


func _emit(ev):
	print(JSON.print(ev))


func _fail(what):
	_emit({"event": "fail", "what": what})
	quit(1)
