package godot

import "strconv"

// Type is a Variant type, numbered as in Godot 4 (core/variant/variant.h).
// Godot 3 numbers its types differently; the codec translates.
type Type uint8

// Godot 4's Variant types.
const (
	TypeNil Type = iota
	TypeBool
	TypeInt
	TypeFloat
	TypeString
	TypeVector2
	TypeVector2i
	TypeRect2
	TypeRect2i
	TypeVector3
	TypeVector3i
	TypeTransform2D
	TypeVector4
	TypeVector4i
	TypePlane
	TypeQuaternion
	TypeAABB
	TypeBasis
	TypeTransform3D
	TypeProjection
	TypeColor
	TypeStringName
	TypeNodePath
	TypeRID
	TypeObject
	TypeCallable
	TypeSignal
	TypeDictionary
	TypeArray
	TypePackedByteArray
	TypePackedInt32Array
	TypePackedInt64Array
	TypePackedFloat32Array
	TypePackedFloat64Array
	TypePackedStringArray
	TypePackedVector2Array
	TypePackedVector3Array
	TypePackedColorArray
	TypePackedVector4Array
	typeMax
)

var typeNames = [typeMax]string{
	"Nil", "bool", "int", "float", "String", "Vector2", "Vector2i", "Rect2", "Rect2i",
	"Vector3", "Vector3i", "Transform2D", "Vector4", "Vector4i", "Plane", "Quaternion",
	"AABB", "Basis", "Transform3D", "Projection", "Color", "StringName", "NodePath",
	"RID", "Object", "Callable", "Signal", "Dictionary", "Array", "PackedByteArray",
	"PackedInt32Array", "PackedInt64Array", "PackedFloat32Array", "PackedFloat64Array",
	"PackedStringArray", "PackedVector2Array", "PackedVector3Array", "PackedColorArray",
	"PackedVector4Array",
}

// String returns Godot 4's name of the type, as GDScript spells it.
func (t Type) String() string {
	if t < typeMax {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Version selects a wire format: Godot 4 (the default) or Godot 3.
type Version int

// The two wire formats. Their type ids differ (Color is 20 in Godot 4 and 14
// in Godot 3, Dictionary 27 and 18) and Godot 4 adds types, 64-bit math
// types and typed containers.
const (
	Godot4 Version = 4
	Godot3 Version = 3
)

// godot3Types maps Godot 3's type ids (core/variant.h of the 3.x branch) to
// Type; godot3IDs is the reverse, 0xFF where Godot 3 has no such type.
var godot3Types = [...]Type{
	TypeNil, TypeBool, TypeInt, TypeFloat, TypeString, TypeVector2, TypeRect2,
	TypeVector3, TypeTransform2D, TypePlane, TypeQuaternion, TypeAABB, TypeBasis,
	TypeTransform3D, TypeColor, TypeNodePath, TypeRID, TypeObject, TypeDictionary,
	TypeArray, TypePackedByteArray, TypePackedInt32Array, TypePackedFloat32Array,
	TypePackedStringArray, TypePackedVector2Array, TypePackedVector3Array,
	TypePackedColorArray,
}

var godot3IDs = func() (ids [typeMax]uint8) {
	for i := range ids {
		ids[i] = 0xFF
	}
	for id, t := range godot3Types {
		ids[t] = uint8(id)
	}
	return ids
}()

// godot3Names are Godot 3's names where they differ from Godot 4's.
var godot3Names = map[Type]string{
	TypeQuaternion:         "Quat",
	TypeTransform3D:        "Transform",
	TypePackedByteArray:    "PoolByteArray",
	TypePackedInt32Array:   "PoolIntArray",
	TypePackedFloat32Array: "PoolRealArray",
	TypePackedStringArray:  "PoolStringArray",
	TypePackedVector2Array: "PoolVector2Array",
	TypePackedVector3Array: "PoolVector3Array",
	TypePackedColorArray:   "PoolColorArray",
}

// Header bits (Godot's HEADER_DATA_* in core/io/marshalls.cpp): the type id
// is the low byte; bit 16 flags 64-bit ints, floats and math types, or an
// Object sent as its id; bits 16-17 and 18-19 hold a typed Array's element
// kind and a typed Dictionary's key and value kinds.
const (
	headerTypeMask   = 0xFF
	headerFlag64     = 1 << 16
	headerObjectAsID = 1 << 16
	kindShiftArray   = 16
	kindShiftKey     = 16
	kindShiftValue   = 18
)

// Container type kinds (Godot's ContainerTypeKind).
const (
	kindNone = iota
	kindBuiltin
	kindClassName
	kindScript
)

// Limits of the decoder, unless Options say otherwise.
const (
	// DefaultMaxDepth is Godot's Variant::MAX_RECURSION_DEPTH.
	DefaultMaxDepth = 1024
	// DefaultMaxValues bounds the values one decode produces.
	DefaultMaxValues = 1 << 22
)

// Options choose the wire format and the decoder's limits. The zero value
// is Godot 4, single-precision math types, no full objects, default limits.
type Options struct {
	// Version is Godot4 (also when 0) or Godot3.
	Version Version
	// RealIsDouble writes math types (vectors, transforms...) as 64-bit
	// floats, as Godot builds with precision=double do (Godot 4 only).
	// Decoding reads both widths whatever this says.
	RealIsDouble bool
	// AllowObjects lets whole Objects through, Godot's allow_objects of
	// get_var and full_objects of put_var. Without it only ObjectIDs pass.
	// Only enable it for trusted peers: Godot instantiates the classes named.
	AllowObjects bool
	// MaxDepth bounds the nesting of containers (0: DefaultMaxDepth).
	MaxDepth int
	// MaxValues bounds the number of values one decode produces
	// (0: DefaultMaxValues).
	MaxValues int
}

func (o Options) resolved() (Options, error) {
	switch o.Version {
	case 0:
		o.Version = Godot4
	case Godot3, Godot4:
	default:
		return o, &versionError{o.Version}
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultMaxValues
	}
	return o, nil
}

// typeFromWire maps a header's type id to a Type in format v.
func typeFromWire(v Version, id uint32) (Type, bool) {
	if v == Godot3 {
		if int(id) < len(godot3Types) {
			return godot3Types[id], true
		}
		return 0, false
	}
	return Type(id), id < uint32(typeMax)
}

// wireID maps t to its id in format v.
func wireID(v Version, t Type) (uint32, bool) {
	if v == Godot3 {
		id := godot3IDs[t]
		return uint32(id), id != 0xFF
	}
	return uint32(t), true
}

// typeName is t's name in format v.
func typeName(v Version, t Type) string {
	if v == Godot3 {
		if n, ok := godot3Names[t]; ok {
			return n
		}
	}
	return t.String()
}
