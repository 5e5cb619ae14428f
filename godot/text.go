package godot

import (
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Format returns v in the text form of Godot's var_to_str (var2str in Godot
// 3), on one line: null, true, 42, 1.5, "text", &"name", Vector2(1, 2),
// Color(1, 0, 0, 1), [1, "a"], {"a": 1}, PackedInt32Array(1, 2) (Godot 3:
// PoolIntArray(1, 2), Quat, Transform), NodePath("/root:x"),
// Array[int]([1]), Dictionary[String, int]({"a": 1}). Differences from
// Godot, chosen so that Parse gives v back: containers stay on one line,
// strings escape control characters (\n, \t, \u0001), numbers print the
// shortest exact decimal (Godot 3 rounds to 6 digits), an ObjectID prints as
// Object(EncodedObjectAsID,"object_id":N), and RID, Callable and Signal show
// their data: RID(7), Callable(), Signal("name", 9). Ids (uint64 in
// Go) print as Godot's signed int does. Values Encode refuses
// print as <unsupported T>.
func Format(v any, ver Version) string {
	p := printer{v: ver}
	p.value(v, 0)
	return p.b.String()
}

type printer struct {
	b strings.Builder
	v Version
}

// num prints a number as Godot's rtos does: ints without a decimal point;
// 32-bit values with float32's shortest form.
func num(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	bits := 64
	if float64(float32(f)) == f {
		bits = 32
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func (p *printer) ctor(name string, comps ...float64) {
	p.b.WriteString(name)
	p.b.WriteByte('(')
	for i, c := range comps {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.b.WriteString(num(c))
	}
	p.b.WriteByte(')')
}

func (p *printer) name(t Type) string { return typeName(p.v, t) }

func (p *printer) str(s string) {
	p.b.WriteString(quote(s))
}

// quote writes s as a Godot string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7F {
				b.WriteString(`\u` + strconv.FormatInt(int64(r)+0x10000, 16)[1:])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (p *printer) value(v any, depth int) {
	if depth > DefaultMaxDepth {
		p.b.WriteString("<too deep>")
		return
	}
	switch x := v.(type) {
	case nil:
		p.b.WriteString("null")
	case bool:
		p.b.WriteString(strconv.FormatBool(x))
	case int64:
		p.b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := num(x)
		if !strings.ContainsAny(s, ".en") { // Godot marks floats: 2.0
			s += ".0"
		}
		p.b.WriteString(s)
	case float32:
		p.value(float64(x), depth)
	case string:
		p.str(x)
	case StringName:
		p.b.WriteByte('&')
		p.str(string(x))
	case NodePath:
		p.b.WriteString("NodePath(")
		p.str(x.String())
		p.b.WriteByte(')')
	default:
		if !p.mathValue(v) && !p.packedValue(v) && !p.misc(v, depth) {
			p.other(v, depth)
		}
	}
}

func (p *printer) mathValue(v any) bool {
	var c [16]float64
	var t Type
	var n int
	switch x := v.(type) {
	case Vector2i:
		t, n, c[0], c[1] = TypeVector2i, 2, float64(x.X), float64(x.Y)
	case Rect2i:
		t, n = TypeRect2i, 4
		c[0], c[1], c[2], c[3] = float64(x.Position.X), float64(x.Position.Y), float64(x.Size.X), float64(x.Size.Y)
	case Vector3i:
		t, n, c[0], c[1], c[2] = TypeVector3i, 3, float64(x.X), float64(x.Y), float64(x.Z)
	case Vector4i:
		t, n = TypeVector4i, 4
		c[0], c[1], c[2], c[3] = float64(x.X), float64(x.Y), float64(x.Z), float64(x.W)
	case Color:
		t, n = TypeColor, 4
		c[0], c[1], c[2], c[3] = float64(x.R), float64(x.G), float64(x.B), float64(x.A)
	default:
		// The real-valued types: reuse the encoder's component order.
		b, err := Options{Version: Godot4, RealIsDouble: true}.Encode(v)
		if err != nil {
			return false
		}
		d := decoder{b: b, o: Options{Version: Godot4, MaxDepth: 1, MaxValues: 1}}
		t = Type(b[0])
		n = mathSizes[t]
		if n == 0 {
			return false
		}
		d.off = 4
		d.reals(c[:n], true)
	}
	p.ctor(p.name(t), c[:n]...)
	return true
}

func (p *printer) packedValue(v any) bool {
	var c []float64
	var t Type
	switch x := v.(type) {
	case []byte:
		t, c = TypePackedByteArray, floats(x)
	case []int32:
		t, c = TypePackedInt32Array, floats(x)
	case []int64:
		p.b.WriteString(p.name(TypePackedInt64Array) + "(")
		for i, e := range x {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.b.WriteString(strconv.FormatInt(e, 10))
		}
		p.b.WriteByte(')')
		return true
	case []float32:
		t, c = TypePackedFloat32Array, floats(x)
	case []float64:
		t = TypePackedFloat64Array
		c = x
	case []string:
		p.b.WriteString(p.name(TypePackedStringArray) + "(")
		for i, s := range x {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.str(s)
		}
		p.b.WriteByte(')')
		return true
	case []Vector2, []Vector3, []Color, []Vector4:
		b, _ := Options{RealIsDouble: true}.Encode(v)
		d := decoder{b: b, o: Options{Version: Godot4, MaxDepth: 1, MaxValues: 1}}
		t = Type(b[0])
		d.off = 8
		size := 8
		if t == TypePackedColorArray {
			size = 4
		}
		c = make([]float64, (len(b)-8)/size)
		d.reals(c, t != TypePackedColorArray)
	default:
		return false
	}
	p.ctor(p.name(t), c...)
	return true
}

func (p *printer) misc(v any, depth int) bool {
	switch x := v.(type) {
	case RID:
		if p.v == Godot3 && x == 0 {
			p.b.WriteString("RID()")
		} else {
			p.b.WriteString("RID(" + strconv.FormatInt(int64(x), 10) + ")")
		}
	case ObjectID:
		p.b.WriteString(`Object(EncodedObjectAsID,"object_id":` + strconv.FormatInt(int64(x), 10) + ")")
	case Object:
		p.b.WriteString("Object(")
		if x.Class != "" {
			p.b.WriteString(className(x.Class))
		}
		for _, pr := range x.Properties {
			p.b.WriteByte(',')
			p.str(pr.Name)
			p.b.WriteByte(':')
			p.value(pr.Value, depth+1)
		}
		p.b.WriteByte(')')
	case Callable:
		p.b.WriteString("Callable()")
	case Signal:
		p.b.WriteString("Signal(")
		p.str(x.Name)
		p.b.WriteString(", " + strconv.FormatInt(int64(x.Object), 10) + ")")
	case *Dictionary:
		p.dictionary(x, depth)
	case Dictionary:
		p.dictionary(&x, depth)
	case []any:
		p.array(x, depth)
	case TypedArray:
		p.b.WriteString("Array[" + p.containerType(x.Elem) + "](")
		p.array(x.Items, depth)
		p.b.WriteByte(')')
	default:
		return false
	}
	return true
}

func (p *printer) containerType(c ContainerType) string {
	switch c.kind() {
	case kindScript:
		return quote(c.Script)
	case kindClassName:
		return className(c.ClassName)
	}
	return p.name(c.Builtin)
}

// className writes a class name as an identifier, or as &"name" when it is
// not one or is also a built-in type's name.
func className(s string) string {
	_, builtin := typesByName[s]
	ok := s != "" && !builtin
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			ok = false
		}
	}
	if ok {
		return s
	}
	return "&" + quote(s)
}

func (p *printer) array(items []any, depth int) {
	p.b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.value(it, depth+1)
	}
	p.b.WriteByte(']')
}

func (p *printer) dictionary(d *Dictionary, depth int) {
	typed := d.KeyType.typed() || d.ValueType.typed()
	if typed {
		p.b.WriteString("Dictionary[" + p.containerType(d.KeyType) + ", " + p.containerType(d.ValueType) + "](")
	}
	p.b.WriteByte('{')
	for i := range d.Len() {
		if i > 0 {
			p.b.WriteString(", ")
		}
		k, v := d.At(i)
		p.value(k, depth+1)
		p.b.WriteString(": ")
		p.value(v, depth+1)
	}
	p.b.WriteByte('}')
	if typed {
		p.b.WriteByte(')')
	}
}

// other prints Go values the codec maps by kind, through their Variant.
func (p *printer) other(v any, depth int) {
	b, err := Options{Version: p.v, RealIsDouble: true, AllowObjects: true}.Encode(v)
	if err == nil {
		var d any
		d, err = Options{Version: p.v, AllowObjects: true}.Decode(b)
		if err == nil && reflect.TypeOf(d) != reflect.TypeOf(v) {
			p.value(d, depth+1)
			return
		}
	}
	p.b.WriteString("<unsupported " + reflect.TypeOf(v).String() + ">")
}

// String returns the path in Godot's syntax, e.g. "/root/Player:position:x".
func (np NodePath) String() string {
	s := strings.Join(np.Names, "/")
	if np.Absolute {
		s = "/" + s
	}
	for _, sub := range np.SubNames {
		s += ":" + sub
	}
	return s
}

// floats converts numbers to float64 for printing.
func floats[T byte | int32 | float32](x []T) []float64 {
	c := make([]float64, len(x))
	for i, e := range x {
		c[i] = float64(e)
	}
	return c
}
