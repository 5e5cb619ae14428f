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
