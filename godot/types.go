package godot

// Go types for Godot's Variant values. Math types hold float64 components:
// Godot's single-precision builds (the usual ones) send them as 32-bit floats,
// double-precision builds as 64-bit; Options.RealIsDouble chooses which the
// encoder writes, and the decoder reads both.

// Vector2 is Godot's Vector2.
type Vector2 struct{ X, Y float64 }

// Vector2i is Godot 4's Vector2i.
type Vector2i struct{ X, Y int32 }

// Rect2 is Godot's Rect2: a position and a size.
type Rect2 struct{ Position, Size Vector2 }

// Rect2i is Godot 4's Rect2i.
type Rect2i struct{ Position, Size Vector2i }

// Vector3 is Godot's Vector3.
type Vector3 struct{ X, Y, Z float64 }

// Vector3i is Godot 4's Vector3i.
type Vector3i struct{ X, Y, Z int32 }

// Vector4 is Godot 4's Vector4.
type Vector4 struct{ X, Y, Z, W float64 }

// Vector4i is Godot 4's Vector4i.
type Vector4i struct{ X, Y, Z, W int32 }

// Transform2D is Godot's Transform2D: its three columns (x axis, y axis,
// origin), in the order Godot serializes them.
type Transform2D struct{ X, Y, Origin Vector2 }

// Plane is Godot's Plane: a normal and a distance from the origin.
type Plane struct {
	Normal Vector3
	D      float64
}

// Quaternion is Godot 4's Quaternion (Quat in Godot 3).
type Quaternion struct{ X, Y, Z, W float64 }

// AABB is Godot's axis-aligned bounding box.
type AABB struct{ Position, Size Vector3 }

// Basis is Godot's 3x3 Basis, as its three rows (Godot's serialization order).
type Basis struct{ Rows [3]Vector3 }

// Transform3D is Godot 4's Transform3D (Transform in Godot 3).
type Transform3D struct {
	Basis  Basis
	Origin Vector3
}

// Projection is Godot 4's 4x4 Projection, as its four columns.
type Projection struct{ Columns [4]Vector4 }

// Color is Godot's Color; Godot always serializes it in single precision.
type Color struct{ R, G, B, A float32 }

// StringName is Godot 4's StringName (written &"name" in text form).
type StringName string

// NodePath is Godot's NodePath: node names, then subnames (properties),
// e.g. "/root/Player:position:x" has Names [root Player], SubNames
// [position x] and Absolute set.
type NodePath struct {
	Names    []string
	SubNames []string
	Absolute bool
}

// RID is Godot's resource id. Godot 3 serializes no id: only RID(0) encodes
// in that format.
type RID uint64

// ObjectID is an Object sent as its instance id, the only form of Object
// decoded or encoded without Options.AllowObjects (Godot's
// EncodedObjectAsID). 0 is a null Object.
type ObjectID uint64

// Object is a whole Object: its class and stored properties. It is encoded and
// decoded only with Options.AllowObjects (Godot's full_objects /
// allow_objects); a zero Object (empty Class) is a null Object.
type Object struct {
	Class      string
	Properties []Property
}

// Property is one stored property of an Object.
type Property struct {
	Name  string
	Value any
}

// Callable is Godot 4's Callable: it carries no data on the wire.
type Callable struct{}

// Signal is Godot 4's Signal: a signal name on an object.
type Signal struct {
	Name   string
	Object ObjectID
}

// ContainerType is the element type of a typed Array, or the key or value
// type of a typed Dictionary (Godot 4.x). The zero value means untyped.
// Exactly one form is used: Script (a res:// path), else ClassName (an
// Object class), else Builtin.
type ContainerType struct {
	Builtin   Type
	ClassName string
	Script    string
}

func (c ContainerType) typed() bool {
	return c.Builtin != TypeNil || c.ClassName != "" || c.Script != ""
}

// TypedArray is a Godot 4 typed Array, e.g. Array[int]. An untyped Array is
// a plain []any.
type TypedArray struct {
	Elem  ContainerType
	Items []any
}
