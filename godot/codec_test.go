package godot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// TestGoMappings checks how plain Go values encode.
func TestGoMappings(t *testing.T) {
	type myInt int16
	for _, c := range []struct {
		v    any
		want any // the value decoding gives back
	}{
		{int(5), int64(5)},
		{uint8(200), int64(200)},
		{myInt(-3), int64(-3)},
		{uint64(math.MaxInt64), int64(math.MaxInt64)},
		{float32(0.5), 0.5},
		{[]int{1, 2}, []any{int64(1), int64(2)}},
		{[2]string{"a", "b"}, []any{"a", "b"}},
		{new(int), int64(0)},
		{(*int)(nil), nil},
	} {
		b, err := Encode(c.v)
		if err != nil {
			t.Errorf("Encode(%#v): %v", c.v, err)
			continue
		}
		got, err := Decode(b)
		if err != nil || Format(got, Godot4) != Format(c.want, Godot4) {
			t.Errorf("Encode(%#v) decodes to %#v, %v; want %#v", c.v, got, err, c.want)
		}
	}
	// Go maps: keys sorted, strings and numbers naturally.
	b, err := Encode(map[string]any{"b": 2, "a": 1, "c": map[int]bool{10: true, 9: false}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(v, Godot4); got != `{"a": 1, "b": 2, "c": {9: false, 10: true}}` {
		t.Errorf("map encodes as %s", got)
	}
	for _, bad := range []any{make(chan int), struct{}{}, uint64(math.MaxUint64), "a\x00b", "\xff", func() {}} {
		if _, err := Encode(bad); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Encode(%#v) = %v, want ErrUnsupported", bad, err)
		}
	}
	// A cycle ends at the depth limit, not in a stack overflow.
	loop := []any{nil}
	loop[0] = loop
	if _, err := Encode(loop); !errors.Is(err, ErrTooDeep) {
		t.Errorf("cyclic Encode = %v, want ErrTooDeep", err)
	}
}

// TestDictionaryOrder checks insertion order, replacement in place, typed
// keys (int 1 and float 1.0 differ) and Delete.
func TestDictionaryOrder(t *testing.T) {
	d := NewDictionary()
	d.Set("z", 1)
	d.Set(int64(1), "int")
	d.Set(1.0, "float")
	d.Set(Vector2{1, 2}, []any{})
	d.Set("z", 2) // replaced, keeps its place
	if got := Format(d, Godot4); got != `{"z": 2, 1: "int", 1.0: "float", Vector2(1, 2): []}` {
		t.Fatalf("order: %s", got)
	}
	if v, ok := d.Get(1); !ok || v != "int" {
		t.Errorf("Get(1) = %v, %v", v, ok)
	}
	if !d.Delete(int64(1)) || d.Delete("missing") || d.Len() != 3 {
		t.Fatal("Delete")
	}
	if v, ok := d.Get(Vector2{1, 2}); !ok || v == nil {
		t.Errorf("Get(Vector2) after Delete = %v, %v", v, ok)
	}
	// Decoding a repeated key keeps the first place and the last value, as Godot's d[key] = value.
	b := []byte{0x1b, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0,
		2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0}
	v, err := Decode(b)
	if err != nil || Format(v, Godot4) != "{1: 6}" {
		t.Errorf("repeated key: %v, %v", Format(v, Godot4), err)
	}
}

// TestHostile checks that malformed and hostile input fails with the right
// sentinel, offset and type, without large allocations.
func TestHostile(t *testing.T) {
	u32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	nested := func(n int) []byte {
		var b []byte
		for range n {
			b = append(b, u32(28, 1)...)
		}
		return append(b, u32(0)...)
	}
	for _, c := range []struct {
		name string
		b    []byte
		err  error
		off  int
		typ  string
	}{
		{"empty", nil, ErrTruncated, 0, ""},
		{"unknown type", u32(99), ErrInvalid, 0, ""},
		{"int short", u32(2, 1)[:6], ErrTruncated, 4, "int"},
		{"huge array count", u32(28, 0x7FFFFFFF), ErrTruncated, 8, "Array"},
		{"huge dictionary count", u32(27, 1000), ErrTruncated, 8, "Dictionary"},
		{"huge byte array", u32(29, 0x7FFFFFFF), ErrTruncated, 8, "PackedByteArray"},
		{"negative string length", u32(4, 0xFFFFFFF0), ErrInvalid, 8, "String"},
		{"string missing padding", append(u32(4, 1), 'a'), ErrTruncated, 8, "String"},
		{"bad utf-8", append(u32(4, 1), 0xff, 0, 0, 0), ErrInvalid, 8, "String"},
		{"huge int32 array", u32(30, 0x40000000), ErrTruncated, 8, "PackedInt32Array"},
		{"huge string array", u32(34, 0x10000000), ErrTruncated, 8, "PackedStringArray"},
		{"old node path", u32(22, 3), ErrInvalid, 8, "NodePath"},
		{"full object refused", u32(24, 0), ErrObjectsNotAllowed, 4, "Object"},
		{"bad container type", u32(28|1<<16, 77, 0), ErrInvalid, 8, "Array"},
		{"too deep", nested(DefaultMaxDepth + 1), ErrTooDeep, (DefaultMaxDepth + 1) * 8, "Array"},
		{"trailing", u32(0, 0), ErrTrailingData, 4, ""},
	} {
		_, err := Decode(c.b)
		var de *DecodeError
		if !errors.Is(err, c.err) || !errors.As(err, &de) || de.Offset != c.off || de.Type != c.typ {
			t.Errorf("%s: %v (%#v), want %v at offset %d in %q", c.name, err, de, c.err, c.off, c.typ)
		}
		if err != nil && !strings.Contains(err.Error(), "offset") {
			t.Errorf("%s: error %q does not name the offset", c.name, err)
		}
	}
	// Nesting at the limit decodes; MaxValues bounds the count of values.
	if _, err := Decode(nested(DefaultMaxDepth)); err != nil {
		t.Errorf("depth %d: %v", DefaultMaxDepth, err)
	}
	if _, err := (Options{MaxValues: 10}).Decode(nested(10)); !errors.Is(err, ErrTooMany) {
		t.Errorf("MaxValues: %v", err)
	}
	// A declared length far beyond the data allocates nothing big.
	b := u32(28, 0x7FFFFFFF)
	allocs := testing.AllocsPerRun(10, func() { Decode(b) })
	if allocs > 10 {
		t.Errorf("hostile count: %v allocations", allocs)
	}
}

// TestRoundTrip checks decode(encode(v)) for values of every type in both
// formats, including both widths of floats and ints.
func TestRoundTrip(t *testing.T) {
	d := NewDictionary()
	d.Set("k", []any{int64(1), 2.5, NewDictionary()})
	common := []any{nil, true, int64(-5), int64(math.MinInt64), 0.3, math.Inf(-1), "hé\n\"",
		Vector2{1.5, -2}, Rect2{Vector2{1, 2}, Vector2{3, 4}}, Vector3{1, 2, 3},
		Transform2D{Vector2{1, 0}, Vector2{0, 1}, Vector2{5, 6}}, Plane{Vector3{0, 1, 0}, 2},
		Quaternion{0, 0, 0.5, 1}, AABB{Vector3{1, 2, 3}, Vector3{4, 5, 6}},
		Basis{[3]Vector3{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}, Transform3D{Basis{}, Vector3{1, 2, 3}},
		Color{0.5, 0.25, 1, 1}, NodePath{Names: []string{"a", "b"}, SubNames: []string{"c"}},
		ObjectID(99), d, []any{[]any{}}, []byte{1, 2, 3, 4, 5}, []int32{-1, 7}, []float32{0.5},
		[]string{"", "x", "日本"}, []Vector2{{1, 2}}, []Vector3{{1, 2, 3}}, []Color{{1, 1, 1, 1}}}
	only4 := []any{Vector2i{1, 2}, Rect2i{}, Vector3i{1, 2, 3}, Vector4{1, 2, 3, 4}, Vector4i{-1, 0, 1, 2},
		Projection{}, StringName("s"), RID(1 << 40), Callable{}, Signal{"s", 1}, []int64{1 << 40},
		[]float64{0.1}, []Vector4{{1, 2, 3, 4}}, TypedArray{ContainerType{Script: "res://a.gd"}, []any{}}}
	for _, o := range []Options{{Version: Godot3}, {}, {RealIsDouble: true}} {
		vals := common
		if o.Version != Godot3 {
			vals = append(append([]any{}, common...), only4...)
		}
		for _, v := range vals {
			b, err := o.Encode(v)
			if err != nil {
				t.Errorf("%+v Encode(%#v): %v", o, v, err)
				continue
			}
			got, err := o.Decode(b)
			if err != nil {
				t.Errorf("%+v Decode(Encode(%#v)): %v", o, v, err)
				continue
			}
			b2, _ := o.Encode(got)
			if !bytes.Equal(b, b2) || Format(got, o.Version) != Format(v, o.Version) {
				t.Errorf("%+v %#v: round trip gave %#v", o, v, got)
			}
		}
	}
}

// TestParseErrors checks that bad text gives ErrSyntax with an offset.
func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "[1,", "{1 2}", "Vector2(1)", "Vector2i(1.5, 2)", "Nope(1)", `"abc`, "1 2",
		"PackedByteArray(256)", `"\q"`, "Color(1)", "Array[int](1)", strings.Repeat("[", 2000)} {
		if _, err := Parse(s, Godot4); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", s, err)
		}
	}
	// Godot's own spellings parse: Godot 3 names and spacing, multi-line.
	v, err := Parse("{\n\"a\": Quat( 0, 0, 0, 1 ),\n\"b\": PoolIntArray( 1, 2 ), \"c\": ^\"/r:x\", \"d\": -inf, \"e\": RID()\n}", Godot3)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a": Quat(0, 0, 0, 1), "b": PoolIntArray(1, 2), "c": NodePath("/r:x"), "d": -inf, "e": RID()}`
	if got := Format(v, Godot3); got != want {
		t.Errorf("Godot 3 text: %s, want %s", got, want)
	}
}

// TestEqual checks Equal: dictionaries in any order, types kept apart.
func TestEqual(t *testing.T) {
	a, err := Parse(`{"x": [1, Vector2(1, 2)], 2: {"k": null}}`, Godot4)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse(`{2: {"k": null}, "x": [1, Vector2(1, 2)]}`, Godot4)
	c, _ := Parse(`{2: {"k": null}, "x": [1.0, Vector2(1, 2)]}`, Godot4)
	if !Equal(a, b) || Equal(a, c) || !Equal(int64(1), 1) || Equal(1, 1.0) || Equal([]any{}, NewDictionary()) {
		t.Error("Equal")
	}
}
