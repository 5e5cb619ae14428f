package godot

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors, matched with errors.Is; the codec wraps them in
// *DecodeError or *EncodeError with the offset or Go type.
var (
	// ErrTruncated: the data ends before the value it declares.
	ErrTruncated = errors.New("godot: data truncated")
	// ErrInvalid: the data is not a valid Variant (unknown type id, bad
	// UTF-8, negative length...).
	ErrInvalid = errors.New("godot: invalid data")
	// ErrTooDeep: containers nest deeper than Options.MaxDepth.
	ErrTooDeep = errors.New("godot: nesting too deep")
	// ErrTooMany: the data holds more values than Options.MaxValues.
	ErrTooMany = errors.New("godot: too many values")
	// ErrObjectsNotAllowed: a whole Object without Options.AllowObjects
	// (Godot's ERR_UNAUTHORIZED).
	ErrObjectsNotAllowed = errors.New("godot: objects not allowed")
	// ErrTrailingData: bytes are left after the value.
	ErrTrailingData = errors.New("godot: trailing data after the value")
	// ErrUnsupported: a Go value, or a type in the chosen format, that has no
	// Godot Variant (e.g. Vector2i in Godot 3, a Go struct, a channel).
	ErrUnsupported = errors.New("godot: unsupported value")
	// ErrSyntax: text that is not in var_to_str form.
	ErrSyntax = errors.New("godot: syntax error")
)

// DecodeError reports where and in which type decoding failed.
type DecodeError struct {
	Offset int    // byte offset of the failing field
	Type   string // the Variant type being decoded, "" before its header
	Detail string
	Err    error // one of the sentinels
}

func (e *DecodeError) Error() string {
	s := "godot: decode"
	if e.Type != "" {
		s += " " + e.Type
	}
	s += " at offset " + strconv.Itoa(e.Offset) + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel.
func (e *DecodeError) Unwrap() error { return e.Err }

// EncodeError reports a Go value the codec cannot encode.
type EncodeError struct {
	GoType string // the Go type of the value, e.g. "chan int"
	Detail string
	Err    error // one of the sentinels
}

func (e *EncodeError) Error() string {
	s := "godot: encode " + e.GoType + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel.
func (e *EncodeError) Unwrap() error { return e.Err }

func encodeErr(v any, err error, format string, args ...any) error {
	return &EncodeError{GoType: fmt.Sprintf("%T", v), Detail: fmt.Sprintf(format, args...), Err: err}
}

type versionError struct{ v Version }

func (e *versionError) Error() string {
	return "godot: unknown format version " + strconv.Itoa(int(e.v)) + " (want 3 or 4)"
}

func (e *versionError) Unwrap() error { return ErrUnsupported }
