package godot

import (
	"bytes"
	"cmp"
	"math"
	"reflect"
	"slices"
)

// mathValue encodes the vector, matrix and color types.
func (e *encoder) mathValue(v any) (bool, error) {
	switch x := v.(type) {
	case Vector2:
		return true, e.reals(v, TypeVector2, x.X, x.Y)
	case Vector2i:
		return true, e.ints(v, TypeVector2i, x.X, x.Y)
	case Rect2:
		return true, e.reals(v, TypeRect2, x.Position.X, x.Position.Y, x.Size.X, x.Size.Y)
	case Rect2i:
		return true, e.ints(v, TypeRect2i, x.Position.X, x.Position.Y, x.Size.X, x.Size.Y)
	case Vector3:
		return true, e.reals(v, TypeVector3, x.X, x.Y, x.Z)
	case Vector3i:
		return true, e.ints(v, TypeVector3i, x.X, x.Y, x.Z)
	case Vector4:
		return true, e.reals(v, TypeVector4, x.X, x.Y, x.Z, x.W)
	case Vector4i:
		return true, e.ints(v, TypeVector4i, x.X, x.Y, x.Z, x.W)
	case Transform2D:
		return true, e.reals(v, TypeTransform2D, x.X.X, x.X.Y, x.Y.X, x.Y.Y, x.Origin.X, x.Origin.Y)
	case Plane:
		return true, e.reals(v, TypePlane, x.Normal.X, x.Normal.Y, x.Normal.Z, x.D)
	case Quaternion:
		return true, e.reals(v, TypeQuaternion, x.X, x.Y, x.Z, x.W)
	case AABB:
		return true, e.reals(v, TypeAABB, x.Position.X, x.Position.Y, x.Position.Z, x.Size.X, x.Size.Y, x.Size.Z)
	case Basis:
		return true, e.reals(v, TypeBasis, basisComps(x)...)
	case Transform3D:
		c := append(basisComps(x.Basis), x.Origin.X, x.Origin.Y, x.Origin.Z)
		return true, e.reals(v, TypeTransform3D, c...)
	case Projection:
		c := make([]float64, 0, 16)
		for _, col := range x.Columns {
			c = append(c, col.X, col.Y, col.Z, col.W)
		}
		return true, e.reals(v, TypeProjection, c...)
	case Color:
		if err := e.header(v, TypeColor, 0); err != nil {
			return true, err
		}
		e.comps(false, float64(x.R), float64(x.G), float64(x.B), float64(x.A))
		return true, nil
	}
	return false, nil
}

func basisComps(b Basis) []float64 {
	c := make([]float64, 0, 12)
	for _, r := range b.Rows {
		c = append(c, r.X, r.Y, r.Z)
	}
	return c
}

// packedTypes are the Go slices that encode as packed (Godot 3: pool) arrays.
var packedTypes = map[reflect.Type]Type{
	reflect.TypeFor[[]byte](): TypePackedByteArray, reflect.TypeFor[[]int32](): TypePackedInt32Array,
	reflect.TypeFor[[]int64](): TypePackedInt64Array, reflect.TypeFor[[]float32](): TypePackedFloat32Array,
	reflect.TypeFor[[]float64](): TypePackedFloat64Array, reflect.TypeFor[[]string](): TypePackedStringArray,
	reflect.TypeFor[[]Vector2](): TypePackedVector2Array, reflect.TypeFor[[]Vector3](): TypePackedVector3Array,
	reflect.TypeFor[[]Color](): TypePackedColorArray, reflect.TypeFor[[]Vector4](): TypePackedVector4Array,
}

// packedValue encodes the packed arrays.
func (e *encoder) packedValue(v any) (bool, error) {
	t, ok := packedTypes[reflect.TypeOf(v)]
	if !ok {
		return false, nil
	}
	n := reflect.ValueOf(v).Len()
	if n > math.MaxInt32 {
		return true, encodeErr(v, ErrUnsupported, "%d elements", n)
	}
	wide := e.o.RealIsDouble && e.o.Version == Godot4 && t >= TypePackedVector2Array && t != TypePackedColorArray
	var flags uint32
	if wide {
		flags = headerFlag64
	}
	if err := e.header(v, t, flags); err != nil {
		return true, err
	}
	e.u32(uint32(n))
	return true, e.packedItems(v, wide)
}

func (e *encoder) packedItems(v any, wide bool) error {
	switch x := v.(type) {
	case []byte:
		e.b = append(e.b, x...)
		e.pad()
	case []int32:
		for _, i := range x {
			e.u32(uint32(i))
		}
	case []int64:
		for _, i := range x {
			e.u64(uint64(i))
		}
	case []float32:
		for _, f := range x {
			e.f32(f)
		}
	case []float64:
		for _, f := range x {
			e.u64(math.Float64bits(f))
		}
	case []string:
		for _, s := range x {
			if err := e.str(v, s, true); err != nil {
				return err
			}
		}
	case []Vector2:
		for _, c := range x {
			e.comps(wide, c.X, c.Y)
		}
	case []Vector3:
		for _, c := range x {
			e.comps(wide, c.X, c.Y, c.Z)
		}
	case []Color:
		for _, c := range x {
			e.comps(false, float64(c.R), float64(c.G), float64(c.B), float64(c.A))
		}
	case []Vector4:
		for _, c := range x {
			e.comps(wide, c.X, c.Y, c.Z, c.W)
		}
	}
	return nil
}

// miscValue encodes the other types of this package.
func (e *encoder) miscValue(v any, depth int) (bool, error) {
	switch x := v.(type) {
	case StringName:
		if err := e.header(v, TypeStringName, 0); err != nil {
			return true, err
		}
		return true, e.str(v, string(x), false)
	case NodePath:
		return true, e.nodePath(x)
	case RID:
		if err := e.header(v, TypeRID, 0); err != nil {
			return true, err
		}
		if e.o.Version == Godot3 {
			if x != 0 {
				return true, encodeErr(v, ErrUnsupported, "Godot 3 sends no RID id, only RID(0) encodes")
			}
			return true, nil
		}
		e.u64(uint64(x))
		return true, nil
	case ObjectID:
		if err := e.header(v, TypeObject, headerObjectAsID); err != nil {
			return true, err
		}
		e.u64(uint64(x))
		return true, nil
	case Object:
		return true, e.object(x, depth)
	case Callable:
		return true, e.header(v, TypeCallable, 0)
	case Signal:
		if err := e.header(v, TypeSignal, 0); err != nil {
			return true, err
		}
		if err := e.str(v, x.Name, false); err != nil {
			return true, err
		}
		e.u64(uint64(x.Object))
		return true, nil
	case *Dictionary:
		if x == nil {
			x = &Dictionary{}
		}
		return true, e.dictionary(x, depth)
	case Dictionary:
		return true, e.dictionary(&x, depth)
	case []any:
		return true, e.array(v, ContainerType{}, x, depth)
	case TypedArray:
		return true, e.array(v, x.Elem, x.Items, depth)
	}
	return false, nil
}

func (e *encoder) nodePath(np NodePath) error {
	if err := e.header(np, TypeNodePath, 0); err != nil {
		return err
	}
	e.u32(uint32(len(np.Names)) | 0x80000000)
	e.u32(uint32(len(np.SubNames)))
	if np.Absolute {
		e.u32(1)
	} else {
		e.u32(0)
	}
	for _, s := range append(append([]string(nil), np.Names...), np.SubNames...) {
		if err := e.str(np, s, false); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) object(o Object, depth int) error {
	if !e.o.AllowObjects {
		return encodeErr(o, ErrObjectsNotAllowed, "a whole Object needs AllowObjects (full_objects)")
	}
	if err := e.header(o, TypeObject, 0); err != nil {
		return err
	}
	if err := e.str(o, o.Class, false); err != nil || o.Class == "" {
		return err
	}
	e.u32(uint32(len(o.Properties)))
	for _, p := range o.Properties {
		if err := e.str(o, p.Name, false); err != nil {
			return err
		}
		if err := e.value(p.Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// kind returns a container type's kind for the header.
func (c ContainerType) kind() uint32 {
	switch {
	case c.Script != "":
		return kindScript
	case c.ClassName != "":
		return kindClassName
	case c.Builtin != TypeNil:
		return kindBuiltin
	}
	return kindNone
}

func (e *encoder) containerType(v any, c ContainerType) error {
	switch c.kind() {
	case kindScript:
		return e.str(v, c.Script, false)
	case kindClassName:
		return e.str(v, c.ClassName, false)
	case kindBuiltin:
		if c.Builtin >= typeMax {
			return encodeErr(v, ErrUnsupported, "container element type %d", c.Builtin)
		}
		e.u32(uint32(c.Builtin))
	}
	return nil
}

func (e *encoder) typedHeader(v any, t Type, kinds uint32) error {
	if kinds != 0 && e.o.Version == Godot3 {
		return encodeErr(v, ErrUnsupported, "Godot 3 has no typed containers")
	}
	return e.header(v, t, kinds)
}

func (e *encoder) dictionary(d *Dictionary, depth int) error {
	if err := e.typedHeader(d, TypeDictionary, d.KeyType.kind()<<kindShiftKey|d.ValueType.kind()<<kindShiftValue); err != nil {
		return err
	}
	if err := e.containerType(d, d.KeyType); err != nil {
		return err
	}
	if err := e.containerType(d, d.ValueType); err != nil {
		return err
	}
	e.u32(uint32(len(d.keys)))
	for i, k := range d.keys {
		if err := e.value(k, depth+1); err != nil {
			return err
		}
		if err := e.value(d.values[i], depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) array(v any, elem ContainerType, items []any, depth int) error {
	if err := e.typedHeader(v, TypeArray, elem.kind()<<kindShiftArray); err != nil {
		return err
	}
	if err := e.containerType(v, elem); err != nil {
		return err
	}
	e.u32(uint32(len(items)))
	for _, it := range items {
		if err := e.value(it, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// reflectValue encodes other Go values by their kind: named basic types,
// pointers, slices, arrays and maps.
func (e *encoder) reflectValue(v any, depth int) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return e.value(rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.int(v, rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > math.MaxInt64 {
			return encodeErr(v, ErrUnsupported, "%d does not fit Godot's 64-bit signed int", rv.Uint())
		}
		return e.int(v, int64(rv.Uint()))
	case reflect.Float32, reflect.Float64:
		return e.float(v, rv.Float())
	case reflect.String:
		return e.value(rv.String(), depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return e.header(v, TypeNil, 0)
		}
		return e.value(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		items := make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
		return e.array(v, ContainerType{}, items, depth)
	case reflect.Map:
		return e.goMap(rv, depth)
	}
	return encodeErr(v, ErrUnsupported, "no Godot Variant for this Go type")
}

// goMap encodes a Go map as a Dictionary with sorted keys.
func (e *encoder) goMap(rv reflect.Value, depth int) error {
	type entry struct {
		k, v any
		id   string
	}
	entries := make([]entry, 0, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		k := it.Key().Interface()
		entries = append(entries, entry{k, it.Value().Interface(), keyID(k)}) // once per key
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c, ok := compareNatural(a.k, b.k); ok {
			return c
		}
		return bytes.Compare([]byte(a.id), []byte(b.id))
	})
	d := NewDictionary()
	for _, en := range entries {
		d.add(en.k, en.v) // Go map keys are distinct
	}
	return e.dictionary(d, depth)
}

// compareNatural orders two strings, or two numbers, naturally.
func compareNatural(a, b any) (int, bool) {
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Kind() == reflect.String && rb.Kind() == reflect.String {
		return cmp.Compare(ra.String(), rb.String()), true
	}
	fa, okA := number(ra)
	fb, okB := number(rb)
	if okA && okB {
		return cmp.Compare(fa, fb), true
	}
	return 0, false
}

func number(r reflect.Value) (float64, bool) {
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(r.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(r.Uint()), true
	case reflect.Float32, reflect.Float64:
		return r.Float(), true
	}
	return 0, false
}
