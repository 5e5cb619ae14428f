package godot

import (
	"bytes"
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// Decode decodes one Godot 4 Variant that fills b exactly, with the default
// Options.
func Decode(b []byte) (any, error) { return Options{}.Decode(b) }

// Decode decodes one Variant that fills b exactly; see DecodePrefix for the
// Go types of the values.
func (o Options) Decode(b []byte) (any, error) {
	v, n, err := o.DecodePrefix(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, &DecodeError{Offset: n, Err: ErrTrailingData, Detail: itoa(len(b)-n) + " bytes"}
	}
	return v, nil
}

// DecodePrefix decodes the Variant at the start of b and returns it with the
// number of bytes it used. Values decode to: nil, bool, int64 (int),
// float64 (float), string, the types of this package (Vector2, Color...),
// StringName, NodePath, RID, ObjectID, Object (only with AllowObjects),
// Callable, Signal, *Dictionary, []any (Array), TypedArray, and []byte,
// []int32, []int64, []float32, []float64, []string, []Vector2, []Vector3,
// []Color, []Vector4 for the packed arrays (Pool arrays in Godot 3).
//
// Hostile input is safe: nothing is allocated beyond what the bytes present
// can fill, nesting and value counts are bounded by the Options, and errors
// are *DecodeError values naming the offset and type.
func (o Options) DecodePrefix(b []byte) (any, int, error) {
	o, err := o.resolved()
	if err != nil {
		return nil, 0, err
	}
	d := decoder{b: b, o: o}
	v, err := d.value(0)
	if err != nil {
		return nil, 0, err
	}
	return v, d.off, nil
}

type decoder struct {
	b      []byte
	off    int
	o      Options
	values int
	typ    Type // the type being decoded, for errors
	inType bool // typ is set: past the header
}

func (d *decoder) fail(err error, detail string) error {
	e := &DecodeError{Offset: d.off, Detail: detail, Err: err}
	if d.inType {
		e.Type = typeName(d.o.Version, d.typ)
	}
	return e
}

// need checks that n more bytes are present.
func (d *decoder) need(n int) error {
	if n < 0 || n > len(d.b)-d.off {
		return d.fail(ErrTruncated, "need "+itoa(n)+" bytes, have "+itoa(len(d.b)-d.off))
	}
	return nil
}

func (d *decoder) u32() (uint32, error) {
	if err := d.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) u64() (uint64, error) {
	if err := d.need(8); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

// count reads an element count and checks that count elements of at least
// minSize bytes each can be present.
func (d *decoder) count(mask uint32, minSize int) (int, error) {
	c, err := d.u32()
	if err != nil {
		return 0, err
	}
	c &= mask
	if int32(c) < 0 {
		return 0, d.fail(ErrInvalid, "negative count")
	}
	if int64(c)*int64(minSize) > int64(len(d.b)-d.off) {
		return 0, d.fail(ErrTruncated, itoa(int(c))+" elements need at least "+itoa(int(c)*minSize)+" bytes, have "+itoa(len(d.b)-d.off))
	}
	return int(c), nil
}

// str reads a length-prefixed, padded UTF-8 string. Like Godot, it ends the
// string at the first NUL (Godot writes one in packed string arrays).
func (d *decoder) str() (string, error) {
	n, err := d.count(0xFFFFFFFF, 1)
	if err != nil {
		return "", err
	}
	padded := (n + 3) &^ 3
	if err := d.need(padded); err != nil {
		return "", err
	}
	raw := d.b[d.off : d.off+n]
	if i := bytes.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	if !utf8.Valid(raw) {
		return "", d.fail(ErrInvalid, "string is not valid UTF-8")
	}
	d.off += padded
	return string(raw), nil
}

// reals reads n math components, 64-bit when wide.
func (d *decoder) reals(dst []float64, wide bool) error {
	size := 4
	if wide {
		size = 8
	}
	if err := d.need(len(dst) * size); err != nil {
		return err
	}
	for i := range dst {
		if wide {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:]))
		} else {
			dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(d.b[d.off:])))
		}
		d.off += size
	}
	return nil
}

func (d *decoder) value(depth int) (any, error) {
	if depth > d.o.MaxDepth {
		return nil, d.fail(ErrTooDeep, "more than "+itoa(d.o.MaxDepth)+" levels")
	}
	d.values++
	if d.values > d.o.MaxValues {
		return nil, d.fail(ErrTooMany, "more than "+itoa(d.o.MaxValues)+" values")
	}
	d.inType = false
	start := d.off
	header, err := d.u32()
	if err != nil {
		d.off = start
		return nil, err
	}
	t, ok := typeFromWire(d.o.Version, header&headerTypeMask)
	if !ok {
		d.off = start
		return nil, d.fail(ErrInvalid, "unknown type id "+itoa(int(header&headerTypeMask)))
	}
	d.typ, d.inType = t, true
	flag64 := header&headerFlag64 != 0
	// Both formats flag 64-bit ints and floats; only Godot 4 has 64-bit
	// math types (double-precision builds).
	wide := d.o.Version == Godot4 && flag64
	switch {
	case t <= TypeString:
		return d.scalar(t, flag64)
	case t < TypeColor:
		return d.math(t, wide)
	case t >= TypePackedByteArray:
		return d.packed(t, wide)
	}
	return d.misc(t, header, depth)
}

func (d *decoder) scalar(t Type, wide bool) (any, error) {
	switch t {
	case TypeNil:
		return nil, nil
	case TypeBool:
		v, err := d.u32()
		return v != 0, err
	case TypeInt:
		if wide {
			v, err := d.u64()
			return int64(v), err
		}
		v, err := d.u32()
		return int64(int32(v)), err
	case TypeFloat:
		return d.float(wide)
	}
	return d.str()
}

// float reads a FLOAT, 64-bit when wide.
func (d *decoder) float(wide bool) (any, error) {
	if wide {
		v, err := d.u64()
		return math.Float64frombits(v), err
	}
	v, err := d.u32()
	return float64(math.Float32frombits(v)), err
}

func (d *decoder) ints(dst []int32) error {
	if err := d.need(4 * len(dst)); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(d.b[d.off:]))
		d.off += 4
	}
	return nil
}
