extends SceneTree

# A Godot 3 server on 127.0.0.1:WSPEER_PORT for a wspeer client sending
# Peer.PutVar values: it decodes each binary message with bytes2var, checks
# that var2bytes gives the same bytes back, and replies with that encoding
# (binary) and with "T:" + var2str (text). The text message "done" ends it:
# it prints DONE and exits 0 when every check passed.
const Values = preload("res://values.gd")

var server = WebSocketServer.new()
var failures = 0
var count = 0
var deadline = 0

func _init():
	server.connect("data_received", self, "_on_data")
	server.bind_ip = "127.0.0.1"
	if server.listen(int(OS.get_environment("WSPEER_PORT"))) != OK:
		print("FAIL listen")
		quit(2)
		return
	print("LISTENING")
	deadline = OS.get_ticks_msec() + 30000

func _idle(_delta):
	server.poll()
	if OS.get_ticks_msec() > deadline:
		print("FAIL timeout after ", count, " values")
		quit(1)

func _on_data(id):
	var p = server.get_peer(id)
	var raw = p.get_packet()
	if p.was_string_packet():
		if raw.get_string_from_utf8() == "done":
			print("DONE ", count, " values, ", failures, " failures")
			quit(0 if failures == 0 else 1)
		return
	var v = bytes2var(raw)
	var again = Values.encoded(v)
	if again.hex_encode() != raw.hex_encode():
		failures += 1
		print("FAIL ", count, " ", var2str(v), ": got ", raw.hex_encode(), ", re-encoded ", again.hex_encode())
	else:
		print("OK ", count, " type ", typeof(v))
	count += 1
	p.set_write_mode(WebSocketPeer.WRITE_MODE_BINARY)
	p.put_packet(again)
	p.set_write_mode(WebSocketPeer.WRITE_MODE_TEXT)
	p.put_packet(("T:" + var2str(v)).to_utf8())
