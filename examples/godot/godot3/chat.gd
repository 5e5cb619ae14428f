extends Node
# A chat client for `wspeer serve`'s /chat: Godot 3 (3.2 or later), whose
# WebSocketClient emits signals from poll(). The Godot 4 version is
# ../godot4/chat.gd. Command-line arguments (all optional):
#   ws://HOST:PORT/chat   the server (default ws://127.0.0.1:8080/chat)
#   say=TEXT              the greeting sent once connected
#   quit-after=N          leave (close 1000 "bye") after N messages received
# Every chat message received is printed as "chat: TEXT".

var url = "ws://127.0.0.1:8080/chat"
var greeting = "hello from Godot 3"
var quit_after = 0
var received = 0
var client = WebSocketClient.new()


func _ready():
	for arg in OS.get_cmdline_args():
		if arg.begins_with("ws://") or arg.begins_with("wss://"):
			url = arg
		elif arg.begins_with("say="):
			greeting = arg.substr(4, arg.length() - 4)
		elif arg.begins_with("quit-after="):
			quit_after = int(arg.substr(11, arg.length() - 11))
	client.connect("connection_established", self, "_on_connected")
	client.connect("connection_error", self, "_on_error")
	client.connect("connection_closed", self, "_on_closed")
	client.connect("server_close_request", self, "_on_close_request")
	client.connect("data_received", self, "_on_data")
	var err = client.connect_to_url(url)
	if err != OK:
		print("unable to connect to ", url)
		get_tree().quit(1)


func _process(_delta):
	# Nothing happens between polls: call poll() every frame.
	client.poll()


func _on_connected(_protocol):
	print("connected to ", url)
	var peer = client.get_peer(1)
	peer.set_write_mode(WebSocketPeer.WRITE_MODE_TEXT) # /chat takes text only
	peer.put_packet(greeting.to_utf8())


func _on_data():
	var peer = client.get_peer(1)
	print("chat: ", peer.get_packet().get_string_from_utf8())
	received += 1
	if received == quit_after:
		client.disconnect_from_host(1000, "bye")


func _on_close_request(code, reason):
	print("server is closing: ", code, " ", reason)


func _on_closed(was_clean):
	# Godot 3.2 reports was_clean false after a close it started itself.
	print("closed (clean: ", was_clean, ")")
	get_tree().quit(0)


func _on_error():
	print("connection failed")
	get_tree().quit(1)
