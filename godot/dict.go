package godot

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// Dictionary is Godot's Dictionary: key-value pairs in insertion order, which
// is the order Godot serializes them in. Keys are any Variant values. Keys
// of the same Godot type and value are the same key (int 1 and int32 1 are;
// int 1 and float 1.0 are not, as in Godot); Set compares container keys
// (arrays, dictionaries, objects...) by their encoding. KeyType and ValueType
// make it a Godot 4.4 typed Dictionary; their zero values mean untyped. Create
// it with NewDictionary or use a zero Dictionary.
type Dictionary struct {
	KeyType, ValueType ContainerType

	keys, values []any
	index        map[any]int // simple keys, by simpleKey
	complexKeys  []int       // positions of the other keys
}

// NewDictionary returns an empty untyped Dictionary.
func NewDictionary() *Dictionary { return &Dictionary{} }

// nodePathKey is the map key of a NodePath.
type nodePathKey struct {
	path     string
	absolute bool
}

// simpleKey returns a comparable map key for scalar, string and math keys.
func simpleKey(k any) (any, bool) {
	switch x := k.(type) {
	case nil, bool, int64, float64, string, StringName, Vector2, Vector2i, Rect2, Rect2i,
		Vector3, Vector3i, Vector4, Vector4i, Transform2D, Plane, Quaternion, AABB, Basis,
		Transform3D, Projection, Color, RID, ObjectID, Callable, Signal:
		return k, true
	case NodePath:
		return nodePathKey{x.String(), x.Absolute}, true
	}
	rv := reflect.ValueOf(k)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() <= math.MaxInt64 {
			return int64(rv.Uint()), true
		}
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.String:
		return rv.String(), true
	}
	return nil, false
}

// keyID identifies a container key by its canonical Godot 4 encoding.
func keyID(k any) string {
	b, err := Options{RealIsDouble: true, AllowObjects: true}.Encode(k)
	if err != nil {
		return fmt.Sprintf("\x00go:%T:%v", k, k)
	}
	return string(b)
}

// find returns the position of key k, or -1.
func (d *Dictionary) find(k any) int {
	if sk, ok := simpleKey(k); ok {
		if i, ok := d.index[sk]; ok {
			return i
		}
		return -1
	}
	if len(d.complexKeys) == 0 {
		return -1
	}
	id := keyID(k)
	for _, i := range d.complexKeys {
		if keyID(d.keys[i]) == id {
			return i
		}
	}
	return -1
}

// Set sets the value of key k; a new key goes last.
func (d *Dictionary) Set(k, v any) {
	if i := d.find(k); i >= 0 {
		d.values[i] = v
		return
	}
	d.add(k, v)
}

// add appends a key known to be new, or a container key from decoding:
// those are not compared (comparing them costs their size at every
// nesting level of hostile input), so repeated container keys stay repeated.
func (d *Dictionary) add(k, v any) {
	if sk, ok := simpleKey(k); ok {
		if i, ok := d.index[sk]; ok {
			d.values[i] = v
			return
		}
		if d.index == nil {
			d.index = make(map[any]int)
		}
		d.index[sk] = len(d.keys)
	} else {
		d.complexKeys = append(d.complexKeys, len(d.keys))
	}
	d.keys = append(d.keys, k)
	d.values = append(d.values, v)
}

// Get returns the value of key k and whether it is present.
func (d *Dictionary) Get(k any) (any, bool) {
	if d == nil {
		return nil, false
	}
	i := d.find(k)
	if i < 0 {
		return nil, false
	}
	return d.values[i], true
}

// Delete removes key k and reports whether it was present.
func (d *Dictionary) Delete(k any) bool {
	if d == nil {
		return false
	}
	i := d.find(k)
	if i < 0 {
		return false
	}
	keys, values := d.keys, d.values
	*d = Dictionary{KeyType: d.KeyType, ValueType: d.ValueType}
	for j := range keys {
		if j != i {
			d.add(keys[j], values[j])
		}
	}
	return true
}

// Len returns the number of keys.
func (d *Dictionary) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// At returns the i-th key and value in order, 0 <= i < Len().
func (d *Dictionary) At(i int) (key, value any) { return d.keys[i], d.values[i] }

// Keys returns the keys in order (a copy).
func (d *Dictionary) Keys() []any {
	if d == nil {
		return nil
	}
	return append([]any(nil), d.keys...)
}

// String returns the Godot 4 text form, e.g. {"a": 1}.
func (d *Dictionary) String() string { return Format(d, Godot4) }

func itoa(n int) string { return strconv.Itoa(n) }
