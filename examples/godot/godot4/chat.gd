extends Node
# A chat client for `wspeer serve`'s /chat: Godot 4, WebSocketPeer, in the
# style of Godot's WebSocket tutorial (poll every frame, act on the ready
# state). ../godot3/chat.gd is its Godot 3 twin. Command-line arguments, after
# "--" (all optional):
#   ws://HOST:PORT/chat   the server (default ws://127.0.0.1:8080/chat)
#   say=TEXT              the greeting sent once connected
#   quit-after=N          leave (close 1000 "bye") after N messages received
# Every chat message received is printed as "chat: TEXT".

@export var websocket_url = "ws://127.0.0.1:8080/chat"
var greeting = "hello from Godot 4"
var quit_after = 0
var received = 0
var greeted = false
var socket = WebSocketPeer.new()


func _ready():
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("ws://") or arg.begins_with("wss://"):
			websocket_url = arg
		elif arg.begins_with("say="):
			greeting = arg.substr(4)
		elif arg.begins_with("quit-after="):
			quit_after = int(arg.substr(11))
	# `wspeer serve` accepts messages up to 1 MiB; Godot's default is 64 KiB.
	# Set the sizes before connecting: they apply at the handshake.
	socket.inbound_buffer_size = 1 << 20
	socket.outbound_buffer_size = 1 << 20
	var err = socket.connect_to_url(websocket_url)
	if err != OK:
		print("unable to connect to ", websocket_url)
		set_process(false)
		get_tree().quit(1)


func _process(_delta):
	# Nothing happens between polls: call poll() every frame.
	socket.poll()
	var state = socket.get_ready_state()
	if state == WebSocketPeer.STATE_OPEN:
		if not greeted:
			greeted = true
			print("connected to ", websocket_url)
			socket.send_text(greeting) # /chat takes text messages only
		while socket.get_ready_state() == WebSocketPeer.STATE_OPEN and socket.get_available_packet_count():
			print("chat: ", socket.get_packet().get_string_from_utf8())
			received += 1
			if received == quit_after:
				socket.close(1000, "bye")
	elif state == WebSocketPeer.STATE_CLOSING:
		pass # Keep polling to finish the closing handshake.
	elif state == WebSocketPeer.STATE_CLOSED:
		var code = socket.get_close_code()
		print("closed %d %s (clean: %s)" % [code, socket.get_close_reason(), code != -1])
		set_process(false)
		get_tree().quit()
