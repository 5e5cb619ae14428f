extends Reference

# Values of every Godot 3 Variant type (objects aside: their ids change from
# run to run), shared by the wspeer tests that run the real engine.
static func all():
	var big = PoolByteArray()
	big.resize(10001)
	for i in range(big.size()):
		big[i] = i % 251
	var keyed = {"a": 1, 2: "b", Vector2(1, 2): [1, 2], null: true}
	var nested = [1, "two", [3, {"four": 4.5, "five": PoolIntArray([5])}], [[[[]]]]]
	return [
		null, true, false,
		0, 42, -7, 2147483647, -2147483648, 2147483648, -9223372036854775807,
		1.5, -0.25, 0.1, 1e20, 0.0,
		"", "hello", "héllo ✓ 日本", "a\"b\\c\nd\te",
		Vector2(1.5, -2), Rect2(1, 2, 3, 4), Vector3(1, 2, 3),
		Transform2D(Vector2(1, 0.5), Vector2(0, 1), Vector2(5, 6)),
		Plane(0, 1, 0, 2), Quat(0, 0, 0.5, 1), AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)),
		Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)),
		Transform(Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)), Vector3(10, 11, 12)),
		Color(1, 0.5, 0.25, 1), NodePath("/root/Player:position:x"), NodePath("a/b"), NodePath(""),
		RID(),
		{}, keyed, [], nested,
		PoolByteArray(), PoolByteArray([1, 2, 3, 255]), big,
		PoolIntArray([1, -2, 2147483647]), PoolRealArray([1.5, -0.25]),
		PoolStringArray(["", "ab", "héllo"]), PoolVector2Array([Vector2(1, 2), Vector2(3, 4)]),
		PoolVector3Array([Vector3(1, 2, 3)]), PoolColorArray([Color(1, 0, 0, 1), Color(0, 0, 1, 0.5)]),
	]

# encoded is var2bytes(v) with the padding after NodePath names zeroed:
# Godot 3 leaves those bytes uninitialised, so no encoder can match them.
static func encoded(v, full_objects = false):
	if typeof(v) != TYPE_NODE_PATH:
		return var2bytes(v, full_objects)
	var out = StreamPeerBuffer.new()
	out.put_u32(TYPE_NODE_PATH)
	out.put_u32(v.get_name_count() | 0x80000000)
	out.put_u32(v.get_subname_count())
	out.put_u32(1 if v.is_absolute() else 0)
	for k in range(v.get_name_count() + v.get_subname_count()):
		var s = v.get_name(k) if k < v.get_name_count() else v.get_subname(k - v.get_name_count())
		var b = s.to_utf8()
		out.put_u32(b.size())
		out.put_data(b)
		while out.get_position() % 4 != 0:
			out.put_u8(0)
	return out.data_array
