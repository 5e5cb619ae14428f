package godot

import (
	"math"
	"strconv"
)

// typesByName finds a type by its Godot 4 or Godot 3 name.
var typesByName = func() map[string]Type {
	m := make(map[string]Type, 2*int(typeMax))
	for t := range typeMax {
		m[t.String()] = t
	}
	for t, n := range godot3Names {
		m[n] = t
	}
	return m
}()

// construct parses NAME(...) after its name.
func (ps *parser) construct(id string, depth int) (any, error) {
	switch id {
	case "Array":
		return ps.typedArray(depth)
	case "Dictionary":
		return ps.typedDict(depth)
	case "Object":
		return ps.object(depth)
	}
	t, ok := typesByName[id]
	if !ok {
		return nil, ps.fail("unknown name " + strconv.Quote(id))
	}
	if err := ps.expect('('); err != nil {
		return nil, err
	}
	args, err := ps.items(')', depth)
	if err != nil {
		return nil, err
	}
	if v, ok, err := ps.special(t, id, args); ok {
		return v, err
	}
	return ps.numeric(t, id, args)
}

// special builds the types whose arguments are not all numbers; ok reports
// whether t is one of them.
func (ps *parser) special(t Type, id string, args []any) (v any, ok bool, err error) {
	switch t {
	case TypeNodePath, TypeStringName, TypeString:
		s, ok := one[string](args)
		if !ok {
			return nil, true, ps.fail(id + " wants one string")
		}
		switch t {
		case TypeNodePath:
			return ParseNodePath(s), true, nil
		case TypeStringName:
			return StringName(s), true, nil
		}
		return s, true, nil
	case TypeRID:
		if len(args) == 0 {
			return RID(0), true, nil
		}
		n, ok := one[int64](args)
		if !ok {
			return nil, true, ps.fail("RID wants one id")
		}
		return RID(n), true, nil
	case TypeCallable:
		if len(args) != 0 {
			return nil, true, ps.fail("Callable() takes no arguments")
		}
		return Callable{}, true, nil
	case TypeSignal:
		if len(args) != 2 {
			return nil, true, ps.fail(`Signal wants ("name", object id)`)
		}
		name, ok1 := args[0].(string)
		obj, ok2 := args[1].(int64)
		if !ok1 || !ok2 {
			return nil, true, ps.fail(`Signal wants ("name", object id)`)
		}
		return Signal{Name: name, Object: ObjectID(obj)}, true, nil
	case TypePackedStringArray:
		s := make([]string, len(args))
		for i, a := range args {
			if s[i], ok = a.(string); !ok {
				return nil, true, ps.fail(id + " wants strings")
			}
		}
		return s, true, nil
	case TypePackedByteArray:
		if s, ok := one[string](args); ok {
			b, err := base64Bytes(s)
			if err != nil {
				return nil, true, ps.fail("bad base64 in PackedByteArray")
			}
			return b, true, nil
		}
	}
	return nil, false, nil
}

func one[T any](args []any) (T, bool) {
	var zero T
	if len(args) != 1 {
		return zero, false
	}
	v, ok := args[0].(T)
	return v, ok
}

// numeric builds a math type or a numeric packed array from its numbers.
func (ps *parser) numeric(t Type, id string, args []any) (any, error) {
	c := make([]float64, len(args))
	for i, a := range args {
		switch n := a.(type) {
		case int64:
			c[i] = float64(n)
		case float64:
			c[i] = n
		default:
			return nil, ps.fail(id + " wants numbers")
		}
	}
	if n, ok := mathSizes[t]; ok {
		if len(c) != n {
			return nil, ps.fail(id + " wants " + itoa(n) + " numbers")
		}
		var a [16]float64
		copy(a[:], c)
		return realValue(t, a), nil
	}
	switch t {
	case TypeVector2i, TypeRect2i, TypeVector3i, TypeVector4i:
		n := map[Type]int{TypeVector2i: 2, TypeRect2i: 4, TypeVector3i: 3, TypeVector4i: 4}[t]
		var a [4]int32
		if len(c) != n || !ints32(a[:], c) {
			return nil, ps.fail(id + " wants " + itoa(n) + " 32-bit integers")
		}
		return intVector(t, a), nil
	case TypeColor:
		if len(c) != 3 && len(c) != 4 {
			return nil, ps.fail("Color wants 3 or 4 numbers")
		}
		col := Color{float32(c[0]), float32(c[1]), float32(c[2]), 1}
		if len(c) == 4 {
			col.A = float32(c[3])
		}
		return col, nil
	}
	return ps.packedNumbers(t, id, args, c)
}

func ints32(dst []int32, c []float64) bool {
	for i, f := range c {
		if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return false
		}
		dst[i] = int32(f)
	}
	return true
}

func (ps *parser) packedNumbers(t Type, id string, args []any, c []float64) (any, error) {
	group := map[Type]int{TypePackedVector2Array: 2, TypePackedVector3Array: 3, TypePackedColorArray: 4, TypePackedVector4Array: 4}[t]
	if group > 0 && len(c)%group != 0 {
		return nil, ps.fail(id + " wants a multiple of " + itoa(group) + " numbers")
	}
	switch t {
	case TypePackedByteArray:
		b := make([]byte, len(c))
		for i, f := range c {
			if f != math.Trunc(f) || f < 0 || f > 255 {
				return nil, ps.fail(id + " wants bytes 0-255")
			}
			b[i] = byte(f)
		}
		return b, nil
	case TypePackedInt32Array:
		s := make([]int32, len(c))
		if !ints32(s, c) {
			return nil, ps.fail(id + " wants 32-bit integers")
		}
		return s, nil
	case TypePackedInt64Array:
		s := make([]int64, len(c))
		for i, a := range args {
			n, ok := a.(int64)
			if !ok {
				return nil, ps.fail(id + " wants integers")
			}
			s[i] = n
		}
		return s, nil
	case TypePackedFloat32Array:
		s := make([]float32, len(c))
		for i, f := range c {
			s[i] = float32(f)
		}
		return s, nil
	case TypePackedFloat64Array:
		return c, nil
	case TypePackedVector2Array:
		s := make([]Vector2, len(c)/2)
		for i := range s {
			s[i] = Vector2{c[2*i], c[2*i+1]}
		}
		return s, nil
	case TypePackedVector3Array:
		s := make([]Vector3, len(c)/3)
		for i := range s {
			s[i] = Vector3{c[3*i], c[3*i+1], c[3*i+2]}
		}
		return s, nil
	case TypePackedColorArray:
		s := make([]Color, len(c)/4)
		for i := range s {
			s[i] = Color{float32(c[4*i]), float32(c[4*i+1]), float32(c[4*i+2]), float32(c[4*i+3])}
		}
		return s, nil
	case TypePackedVector4Array:
		s := make([]Vector4, len(c)/4)
		for i := range s {
			s[i] = Vector4{c[4*i], c[4*i+1], c[4*i+2], c[4*i+3]}
		}
		return s, nil
	}
	return nil, ps.fail(id + " cannot be written in text form")
}

// containerType parses the type inside Array[...] or Dictionary[...].
func (ps *parser) containerType() (ContainerType, error) {
	ps.space()
	if ps.i < len(ps.s) && ps.s[ps.i] == '"' {
		s, err := ps.str()
		return ContainerType{Builtin: TypeObject, Script: s}, err
	}
	name, quoted, err := ps.className()
	if err != nil {
		return ContainerType{}, err
	}
	if quoted {
		return ContainerType{Builtin: TypeObject, ClassName: name}, nil
	}
	if name == "" {
		return ContainerType{}, ps.fail("want a type name")
	}
	if t, ok := typesByName[name]; ok {
		return ContainerType{Builtin: t}, nil
	}
	return ContainerType{Builtin: TypeObject, ClassName: name}, nil
}

func (ps *parser) typedArray(depth int) (any, error) {
	if err := ps.expect('['); err != nil {
		return nil, err
	}
	elem, err := ps.containerType()
	if err != nil {
		return nil, err
	}
	if err := ps.expectSeq("](["); err != nil {
		return nil, err
	}
	items, err := ps.items(']', depth)
	if err != nil {
		return nil, err
	}
	return TypedArray{Elem: elem, Items: items}, ps.expect(')')
}

func (ps *parser) typedDict(depth int) (any, error) {
	if err := ps.expect('['); err != nil {
		return nil, err
	}
	k, err := ps.containerType()
	if err == nil {
		err = ps.expect(',')
	}
	var v ContainerType
	if err == nil {
		v, err = ps.containerType()
	}
	if err == nil {
		err = ps.expectSeq("](")
	}
	if err != nil {
		return nil, err
	}
	ps.space()
	if ps.i >= len(ps.s) || ps.s[ps.i] != '{' {
		return nil, ps.fail("want '{'")
	}
	d, err := ps.dict(depth)
	if err != nil {
		return nil, err
	}
	dict := d.(*Dictionary)
	dict.KeyType, dict.ValueType = k, v
	return dict, ps.expect(')')
}

// object parses Object(Class,"prop":value,...); EncodedObjectAsID with an
// object_id becomes an ObjectID.
func (ps *parser) object(depth int) (any, error) {
	if err := ps.expect('('); err != nil {
		return nil, err
	}
	class, _, err := ps.className()
	if err != nil {
		return nil, err
	}
	obj := Object{Class: class}
	for ps.eat(',') {
		name, err := ps.str()
		if err != nil {
			return nil, err
		}
		if err := ps.expect(':'); err != nil {
			return nil, err
		}
		v, err := ps.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj.Properties = append(obj.Properties, Property{name, v})
	}
	if err := ps.expect(')'); err != nil {
		return nil, err
	}
	if obj.Class == "EncodedObjectAsID" && len(obj.Properties) == 1 && obj.Properties[0].Name == "object_id" {
		if id, ok := obj.Properties[0].Value.(int64); ok {
			return ObjectID(id), nil
		}
	}
	return obj, nil
}

// className reads an identifier or &"name".
func (ps *parser) className() (name string, quoted bool, err error) {
	if ps.eat('&') {
		s, err := ps.str()
		return s, true, err
	}
	return ps.ident(), false, nil
}

// expectSeq expects each byte of seq in turn, spaces allowed between.
func (ps *parser) expectSeq(seq string) error {
	for i := range len(seq) {
		if err := ps.expect(seq[i]); err != nil {
			return err
		}
	}
	return nil
}
