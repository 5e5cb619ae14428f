// Package godot encodes and decodes Godot's Variant binary serialization,
// the format of PacketPeer.put_var and get_var (var_to_bytes and
// bytes_to_var), and reads and writes its var_to_str text form. It is the
// codec under wspeer's Peer.PutVar and Peer.GetVar, and has no dependency on
// package wspeer.
//
// Both wire formats are supported and chosen explicitly with
// Options.Version: Godot 4 (the default) and Godot 3. Their type ids differ
// (Color is 20 in Godot 4 and 14 in Godot 3, Dictionary 27 and 18); the ids,
// header flags and layouts here come from Godot's core/variant/variant.h and
// core/io/marshalls.cpp (Godot's "Binary serialization API" page still shows
// Godot 3's table under 4.x). Godot 4 adds 64-bit flags for int, float and,
// in double-precision builds, math types; typed Array and Dictionary
// headers; and Vector2i, Rect2i, Vector3i, Vector4, Vector4i, Projection,
// StringName, Callable, Signal, PackedInt64Array, PackedFloat64Array and
// PackedVector4Array, which Godot 3 lacks.
//
// Go types of the values (decoding gives these; encoding also takes plain
// Go values, see Options.Encode):
//
//	null                       nil
//	bool, int, float           bool, int64, float64
//	String, StringName         string, StringName
//	Vector2 ... Projection     Vector2 ... Projection (float64 fields)
//	Color                      Color (float32: always 32-bit on the wire)
//	NodePath, RID              NodePath, RID
//	Object                     ObjectID (sent as an id), Object (whole, AllowObjects only)
//	Callable, Signal           Callable, Signal
//	Dictionary                 *Dictionary (ordered; typed via KeyType/ValueType)
//	Array                      []any, or TypedArray for Array[T]
//	Packed/Pool arrays         []byte, []int32, []int64, []float32, []float64,
//	                           []string, []Vector2, []Vector3, []Color, []Vector4
//
// Re-encoding a decoded value gives the bytes Godot wrote: ints and floats
// keep 32 or 64 bits because the encoder decides as Godot does (64 bits only
// when the value needs them), and math types keep their width when
// Options.RealIsDouble matches the sending build. Godot leaves the padding
// after NodePath names uninitialised; this encoder writes zeros.
//
// Decoding is safe on hostile input: nothing is allocated beyond what the
// bytes present can fill, nesting is bounded by Options.MaxDepth (Godot's
// 1024), the number of values by Options.MaxValues, whole Objects are
// refused unless Options.AllowObjects is set (Godot's allow_objects), and
// every error is a *DecodeError naming the offset and type, matching a
// sentinel such as ErrTruncated with errors.Is.
package godot
