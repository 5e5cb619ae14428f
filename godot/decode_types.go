package godot

import (
	"encoding/binary"
	"math"
)

// mathSizes is the number of components of each math type.
var mathSizes = map[Type]int{
	TypeVector2: 2, TypeRect2: 4, TypeVector3: 3, TypeTransform2D: 6, TypeVector4: 4,
	TypePlane: 4, TypeQuaternion: 4, TypeAABB: 6, TypeBasis: 9, TypeTransform3D: 12,
	TypeProjection: 16,
}

func (d *decoder) math(t Type, wide bool) (any, error) {
	switch t {
	case TypeVector2i, TypeRect2i, TypeVector3i, TypeVector4i:
		var c [4]int32
		n := map[Type]int{TypeVector2i: 2, TypeRect2i: 4, TypeVector3i: 3, TypeVector4i: 4}[t]
		if err := d.ints(c[:n]); err != nil {
			return nil, err
		}
		return intVector(t, c), nil
	}
	var c [16]float64
	if err := d.reals(c[:mathSizes[t]], wide); err != nil {
		return nil, err
	}
	return realValue(t, c), nil
}

func intVector(t Type, c [4]int32) any {
	switch t {
	case TypeVector2i:
		return Vector2i{c[0], c[1]}
	case TypeRect2i:
		return Rect2i{Vector2i{c[0], c[1]}, Vector2i{c[2], c[3]}}
	case TypeVector3i:
		return Vector3i{c[0], c[1], c[2]}
	}
	return Vector4i{c[0], c[1], c[2], c[3]}
}

// realValue builds a math value from its components in wire order.
func realValue(t Type, c [16]float64) any {
	v3 := func(i int) Vector3 { return Vector3{c[i], c[i+1], c[i+2]} }
	switch t {
	case TypeVector2:
		return Vector2{c[0], c[1]}
	case TypeRect2:
		return Rect2{Vector2{c[0], c[1]}, Vector2{c[2], c[3]}}
	case TypeVector3:
		return v3(0)
	case TypeTransform2D:
		return Transform2D{Vector2{c[0], c[1]}, Vector2{c[2], c[3]}, Vector2{c[4], c[5]}}
	case TypeVector4:
		return Vector4{c[0], c[1], c[2], c[3]}
	case TypePlane:
		return Plane{v3(0), c[3]}
	case TypeQuaternion:
		return Quaternion{c[0], c[1], c[2], c[3]}
	case TypeAABB:
		return AABB{v3(0), v3(3)}
	case TypeBasis:
		return Basis{[3]Vector3{v3(0), v3(3), v3(6)}}
	case TypeTransform3D:
		return Transform3D{Basis{[3]Vector3{v3(0), v3(3), v3(6)}}, v3(9)}
	}
	var p Projection
	for i := range p.Columns {
		p.Columns[i] = Vector4{c[4*i], c[4*i+1], c[4*i+2], c[4*i+3]}
	}
	return p
}

func (d *decoder) misc(t Type, header uint32, depth int) (any, error) {
	switch t {
	case TypeColor:
		var c [4]float64
		if err := d.reals(c[:], false); err != nil {
			return nil, err
		}
		return Color{float32(c[0]), float32(c[1]), float32(c[2]), float32(c[3])}, nil
	case TypeStringName:
		s, err := d.str()
		return StringName(s), err
	case TypeNodePath:
		return d.nodePath()
	case TypeRID:
		if d.o.Version == Godot3 {
			return RID(0), nil // Godot 3 sends no id
		}
		v, err := d.u64()
		return RID(v), err
	case TypeObject:
		return d.object(header, depth)
	case TypeCallable:
		return Callable{}, nil
	case TypeSignal:
		name, err := d.str()
		if err != nil {
			return nil, err
		}
		id, err := d.u64()
		return Signal{Name: name, Object: ObjectID(id)}, err
	case TypeDictionary:
		return d.dictionary(header, depth)
	}
	return d.array(header, depth)
}

func (d *decoder) nodePath() (any, error) {
	names, err := d.u32()
	if err != nil {
		return nil, err
	}
	if names&0x80000000 == 0 {
		return nil, d.fail(ErrInvalid, "old NodePath format")
	}
	d.off -= 4
	nn, err := d.count(0x7FFFFFFF, 4)
	if err != nil {
		return nil, err
	}
	ns, err := d.count(0xFFFFFFFF, 0)
	if err != nil {
		return nil, err
	}
	flags, err := d.u32()
	if err != nil {
		return nil, err
	}
	if flags&2 != 0 { // obsolete format: the property is one more subname
		ns++
	}
	if int64(nn)+int64(ns) > int64(len(d.b)-d.off)/4 {
		return nil, d.fail(ErrTruncated, "NodePath names exceed the data")
	}
	np := NodePath{Absolute: flags&1 != 0}
	for i := 0; i < nn+ns; i++ {
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if i < nn {
			np.Names = append(np.Names, s)
		} else {
			np.SubNames = append(np.SubNames, s)
		}
	}
	return np, nil
}

func (d *decoder) object(header uint32, depth int) (any, error) {
	const t = TypeObject
	if header&headerObjectAsID != 0 {
		v, err := d.u64()
		return ObjectID(v), err
	}
	if !d.o.AllowObjects {
		return nil, d.fail(ErrObjectsNotAllowed, "a whole Object (enable AllowObjects only for trusted peers)")
	}
	class, err := d.str()
	if err != nil || class == "" {
		return Object{}, err
	}
	n, err := d.count(0xFFFFFFFF, 8)
	if err != nil {
		return nil, err
	}
	obj := Object{Class: class, Properties: make([]Property, 0, n)}
	for range n {
		name, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := d.child(depth, t)
		if err != nil {
			return nil, err
		}
		obj.Properties = append(obj.Properties, Property{name, v})
	}
	return obj, nil
}

// containerType reads a typed container's element (or key, value) type.
func (d *decoder) containerType(kind uint32) (ContainerType, error) {
	switch kind {
	case kindBuiltin:
		id, err := d.u32()
		if err != nil {
			return ContainerType{}, err
		}
		if id >= uint32(typeMax) {
			return ContainerType{}, d.fail(ErrInvalid, "container element type "+itoa(int(id)))
		}
		return ContainerType{Builtin: Type(id)}, nil
	case kindClassName:
		s, err := d.str()
		return ContainerType{Builtin: TypeObject, ClassName: s}, err
	case kindScript:
		s, err := d.str()
		return ContainerType{Builtin: TypeObject, Script: s}, err
	}
	return ContainerType{}, nil
}

func (d *decoder) dictionary(header uint32, depth int) (any, error) {
	const t = TypeDictionary
	dict := NewDictionary()
	if d.o.Version == Godot4 {
		var err error
		if dict.KeyType, err = d.containerType(header >> kindShiftKey & 3); err != nil {
			return nil, err
		}
		if dict.ValueType, err = d.containerType(header >> kindShiftValue & 3); err != nil {
			return nil, err
		}
	}
	n, err := d.count(0x7FFFFFFF, 8)
	if err != nil {
		return nil, err
	}
	for range n {
		k, err := d.child(depth, t)
		if err != nil {
			return nil, err
		}
		v, err := d.child(depth, t)
		if err != nil {
			return nil, err
		}
		dict.add(k, v) // a repeated key keeps its first place, as in Godot
	}
	return dict, nil
}

func (d *decoder) array(header uint32, depth int) (any, error) {
	const t = TypeArray
	var elem ContainerType
	if d.o.Version == Godot4 {
		var err error
		if elem, err = d.containerType(header >> kindShiftArray & 3); err != nil {
			return nil, err
		}
	}
	n, err := d.count(0x7FFFFFFF, 4)
	if err != nil {
		return nil, err
	}
	items := make([]any, 0, n)
	for range n {
		v, err := d.child(depth, t)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if elem.typed() {
		return TypedArray{Elem: elem, Items: items}, nil
	}
	return items, nil
}

func (d *decoder) packed(t Type, wide bool) (any, error) {
	switch t {
	case TypePackedByteArray:
		n, err := d.count(0xFFFFFFFF, 1)
		if err != nil {
			return nil, err
		}
		if err := d.need((n + 3) &^ 3); err != nil {
			return nil, err
		}
		b := append([]byte{}, d.b[d.off:d.off+n]...)
		d.off += (n + 3) &^ 3
		return b, nil
	case TypePackedStringArray:
		n, err := d.count(0xFFFFFFFF, 4)
		if err != nil {
			return nil, err
		}
		s := make([]string, n)
		for i := range s {
			if s[i], err = d.str(); err != nil {
				return nil, err
			}
		}
		return s, nil
	case TypePackedInt32Array, TypePackedInt64Array, TypePackedFloat32Array, TypePackedFloat64Array:
		return d.packedNumbers(t)
	}
	return d.packedVectors(t, wide)
}

func (d *decoder) packedNumbers(t Type) (any, error) {
	size := 4
	if t == TypePackedInt64Array || t == TypePackedFloat64Array {
		size = 8
	}
	n, err := d.count(0xFFFFFFFF, size)
	if err != nil {
		return nil, err
	}
	b := d.b[d.off : d.off+n*size]
	d.off += n * size
	le := binary.LittleEndian
	switch t {
	case TypePackedInt32Array:
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(le.Uint32(b[4*i:]))
		}
		return s, nil
	case TypePackedInt64Array:
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(le.Uint64(b[8*i:]))
		}
		return s, nil
	case TypePackedFloat32Array:
		s := make([]float32, n)
		for i := range s {
			s[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return s, nil
	}
	s := make([]float64, n)
	for i := range s {
		s[i] = math.Float64frombits(le.Uint64(b[8*i:]))
	}
	return s, nil
}

func (d *decoder) packedVectors(t Type, wide bool) (any, error) {
	comps := map[Type]int{TypePackedVector2Array: 2, TypePackedVector3Array: 3, TypePackedColorArray: 4, TypePackedVector4Array: 4}[t]
	size := 4
	if wide && t != TypePackedColorArray { // colors are always 32-bit
		size = 8
	}
	n, err := d.count(0xFFFFFFFF, comps*size)
	if err != nil {
		return nil, err
	}
	var c [4]float64
	switch t {
	case TypePackedVector2Array:
		s := make([]Vector2, n)
		for i := range s {
			d.reals(c[:2], size == 8)
			s[i] = Vector2{c[0], c[1]}
		}
		return s, nil
	case TypePackedVector3Array:
		s := make([]Vector3, n)
		for i := range s {
			d.reals(c[:3], size == 8)
			s[i] = Vector3{c[0], c[1], c[2]}
		}
		return s, nil
	case TypePackedColorArray:
		s := make([]Color, n)
		for i := range s {
			d.reals(c[:], false)
			s[i] = Color{float32(c[0]), float32(c[1]), float32(c[2]), float32(c[3])}
		}
		return s, nil
	}
	s := make([]Vector4, n)
	for i := range s {
		d.reals(c[:], size == 8)
		s[i] = Vector4{c[0], c[1], c[2], c[3]}
	}
	return s, nil
}

// child decodes a value inside a container of type t, then names t again
// in errors.
func (d *decoder) child(depth int, t Type) (any, error) {
	v, err := d.value(depth + 1)
	d.typ, d.inType = t, true
	return v, err
}
