package godot

// Equal reports whether a and b are the same Variant: the same type and
// value (compared by their encoding, so int 1 and int64 1 are equal and
// int 1 and float 1.0 are not), dictionaries with the same pairs in any
// order, as Godot's == compares them, and arrays element by element.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case Dictionary:
		return Equal(&x, b)
	case *Dictionary:
		if y, ok := b.(Dictionary); ok {
			b = &y
		}
		y, ok := b.(*Dictionary)
		if !ok || x.Len() != y.Len() || x.KeyType != y.KeyType || x.ValueType != y.ValueType {
			return false
		}
		for i := range x.Len() {
			k, v := x.At(i)
			w, ok := y.Get(k)
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case TypedArray:
		y, ok := b.(TypedArray)
		return ok && x.Elem == y.Elem && Equal(x.Items, y.Items)
	}
	return keyID(a) == keyID(b)
}
