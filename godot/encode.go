package godot

import (
	"encoding/binary"
	"math"
	"strings"
	"unicode/utf8"
)

// Encode encodes v in Godot 4's format with the default Options.
func Encode(v any) ([]byte, error) { return Options{}.Encode(v) }

// Encode encodes v as Godot's encode_variant (var_to_bytes) does.
//
// Go values map to Variants as follows: nil to null; bool; every integer
// type to int (32-bit on the wire when it fits, else 64-bit, as Godot
// decides; a uint64 above MaxInt64 is an error); float32 and float64 to float
// (32-bit when the value survives it, as Godot decides); string (valid UTF-8
// without NUL); []byte, []int32, []int64, []float32, []float64, []string,
// []Vector2, []Vector3, []Color and []Vector4 to the packed arrays; any other
// slice or Go array to Array; *Dictionary to Dictionary in its order; a Go
// map to Dictionary with its keys sorted (strings and numbers in ascending
// order, other keys by their encoding); a pointer to what it points to; and
// the types of this package to theirs. Types Godot 3 lacks are an
// ErrUnsupported error in that format.
func (o Options) Encode(v any) ([]byte, error) { return o.Append(nil, v) }

// Append appends the encoding of v to dst.
func (o Options) Append(dst []byte, v any) ([]byte, error) {
	o, err := o.resolved()
	if err != nil {
		return dst, err
	}
	e := encoder{o: o, b: dst}
	if err := e.value(v, 0); err != nil {
		return dst, err
	}
	return e.b, nil
}

type encoder struct {
	o Options
	b []byte
}

func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) f32(v float32) {
	e.u32(math.Float32bits(v))
}

func (e *encoder) header(v any, t Type, flags uint32) error {
	id, ok := wireID(e.o.Version, t)
	if !ok {
		return encodeErr(v, ErrUnsupported, "Godot 3 has no %s", t)
	}
	e.u32(id | flags)
	return nil
}

func (e *encoder) pad() {
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

// str appends a length-prefixed string padded to 4 bytes; nul adds the NUL
// Godot writes in packed string arrays.
func (e *encoder) str(v any, s string, nul bool) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return encodeErr(v, ErrUnsupported, "string %.40q is not UTF-8 without NUL", s)
	}
	n := len(s)
	if nul {
		n++
	}
	e.u32(uint32(n))
	e.b = append(e.b, s...)
	if nul {
		e.b = append(e.b, 0)
	}
	e.pad()
	return nil
}

func (e *encoder) int(v any, i int64) error {
	if i > math.MaxInt32 || i < math.MinInt32 {
		if err := e.header(v, TypeInt, headerFlag64); err != nil {
			return err
		}
		e.u64(uint64(i))
		return nil
	}
	if err := e.header(v, TypeInt, 0); err != nil {
		return err
	}
	e.u32(uint32(int32(i)))
	return nil
}

func (e *encoder) float(v any, f float64) error {
	if float64(float32(f)) != f { // NaN included, as in Godot
		if err := e.header(v, TypeFloat, headerFlag64); err != nil {
			return err
		}
		e.u64(math.Float64bits(f))
		return nil
	}
	if err := e.header(v, TypeFloat, 0); err != nil {
		return err
	}
	e.f32(float32(f))
	return nil
}

// reals appends a math value's components, with its header.
func (e *encoder) reals(v any, t Type, c ...float64) error {
	wide := e.o.RealIsDouble && e.o.Version == Godot4
	var flags uint32
	if wide {
		flags = headerFlag64
	}
	if err := e.header(v, t, flags); err != nil {
		return err
	}
	e.comps(wide, c...)
	return nil
}

func (e *encoder) comps(wide bool, c ...float64) {
	for _, x := range c {
		if wide {
			e.u64(math.Float64bits(x))
		} else {
			e.f32(float32(x))
		}
	}
}

func (e *encoder) ints(v any, t Type, c ...int32) error {
	if err := e.header(v, t, 0); err != nil {
		return err
	}
	for _, x := range c {
		e.u32(uint32(x))
	}
	return nil
}

func (e *encoder) value(v any, depth int) error {
	if depth > e.o.MaxDepth {
		return encodeErr(v, ErrTooDeep, "more than %d levels (a cycle?)", e.o.MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return e.header(v, TypeNil, 0)
	case bool:
		if err := e.header(v, TypeBool, 0); err != nil {
			return err
		}
		if x {
			e.u32(1)
		} else {
			e.u32(0)
		}
		return nil
	case int:
		return e.int(v, int64(x))
	case int64:
		return e.int(v, x)
	case int32:
		return e.int(v, int64(x))
	case float64:
		return e.float(v, x)
	case float32:
		return e.float(v, float64(x))
	case string:
		if err := e.header(v, TypeString, 0); err != nil {
			return err
		}
		return e.str(v, x, false)
	}
	if ok, err := e.mathValue(v); ok {
		return err
	}
	if ok, err := e.packedValue(v); ok {
		return err
	}
	if ok, err := e.miscValue(v, depth); ok {
		return err
	}
	return e.reflectValue(v, depth)
}
