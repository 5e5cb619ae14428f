extends SceneTree

# A Godot 3 client of `wspeer echo -godot-var 3` (URL in WSPEER_URL): it
# sends every value of values.gd with put_var, twice, and checks the first
# reply byte for byte against var2bytes (get_packet) and the second as a
# value (get_var). An Object goes as its instance id, and once whole
# (put_var full_objects). It prints OK or FAIL per value, then DONE, and
# exits 0 when every check passed.
const Values = preload("res://values.gd")

var ws = WebSocketClient.new()
var items = []
var i = 0
var failures = 0
var deadline = 0
var opened = false
var finished = false

func _init():
	for v in Values.all():
		items.append([v, false])
	items.append([Node.new(), false])
	items.append([Reference.new(), true])
	ws.connect("connection_established", self, "_on_open")
	ws.connect("connection_error", self, "_on_error")
	ws.connect("connection_closed", self, "_on_closed")
	if ws.connect_to_url(OS.get_environment("WSPEER_URL")) != OK:
		fail("connect_to_url")
		finish()
	deadline = OS.get_ticks_msec() + 30000

func fail(what):
	print("FAIL ", what)
	failures += 1

func finish():
	if finished:
		return
	finished = true
	for item in items:
		if item[0] is Node:
			item[0].free()
	print("DONE ", i, " values, ", failures, " failures")
	quit(0 if failures == 0 and i == items.size() else 1)

func peer():
	return ws.get_peer(1)

func _on_open(_protocol):
	opened = true
	peer().set_write_mode(WebSocketPeer.WRITE_MODE_BINARY)
	send()

func _on_error():
	fail("connection error")
	finish()

func _on_closed(_clean):
	if not finished:
		fail("connection closed at value %d" % i)
		finish()

func send():
	var item = items[i]
	for _k in range(2):
		var err = peer().put_var(item[0], item[1])
		if err != OK:
			fail("put_var %d: error %d" % [i, err])

func _idle(_delta):
	if finished:
		return
	ws.poll()
	if OS.get_ticks_msec() > deadline:
		fail("timeout at value %d" % i)
		finish()
		return
	while opened and not finished and peer().get_available_packet_count() >= 2:
		check(items[i][0], items[i][1])
		i += 1
		if i == items.size():
			finish()
			return
		send()

func check(v, full):
	var raw = peer().get_packet()
	var want = Values.encoded(v, full)
	if raw.hex_encode() != want.hex_encode():
		fail("value %d %s: got %s, want %s" % [i, var2str(v), raw.hex_encode(), want.hex_encode()])
		peer().get_packet()
		return
	var got = peer().get_var(full)
	if typeof(v) == TYPE_OBJECT and not full:
		if not (got is EncodedObjectAsID) or got.get_object_id() != v.get_instance_id():
			fail("value %d: object id %s" % [i, str(got)])
			return
	elif typeof(v) == TYPE_OBJECT:
		if typeof(got) != TYPE_OBJECT or got.get_class() != v.get_class():
			fail("value %d: whole object came back as %s" % [i, str(got)])
			return
	elif typeof(got) != typeof(v) or var2str(got) != var2str(v):
		fail("value %d: get_var gave %s, want %s" % [i, var2str(got), var2str(v)])
		return
	print("OK ", i, " type ", typeof(v), " ", raw.size(), " bytes")
