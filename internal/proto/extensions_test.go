package proto

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	type P = ExtensionParam
	tests := []struct {
		in   []string
		want []Extension
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{" , ,"}, nil},
		{[]string{"permessage-deflate"}, []Extension{{Name: "permessage-deflate"}}},
		{[]string{"permessage-deflate; client_max_window_bits; server_max_window_bits=10"},
			[]Extension{{Name: "permessage-deflate", Params: []P{
				{Name: "client_max_window_bits"}, {Name: "server_max_window_bits", Value: "10", HasValue: true}}}}},
		{[]string{"a;b=\"1\" , c ;d = e\t", "f"},
			[]Extension{{Name: "a", Params: []P{{Name: "b", Value: "1", HasValue: true}}},
				{Name: "c", Params: []P{{Name: "d", Value: "e", HasValue: true}}}, {Name: "f"}}},
		{[]string{`x; q="a\b"`}, []Extension{{Name: "x", Params: []P{{Name: "q", Value: "ab", HasValue: true}}}}},
		{[]string{"a,,b,"}, []Extension{{Name: "a"}, {Name: "b"}}},
		{[]string{"a", "a"}, []Extension{{Name: "a"}, {Name: "a"}}}, // duplicates are the negotiator's business
	}
	for _, tt := range tests {
		got, err := ParseExtensions(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseExtensions(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		";", "a;", "a; ", "a;=1", "a;b=", "a;b= ,", "a b", "a;b c", "a;b=\"1", "a;b=\"1\\", `a;b=""`,
		`a;b="1 2"`, `a;b="x,y"`, "a;b=1=2", "(a)", "a,\"b\"", "a;b=\"1\"x", "caf\xc3\xa9",
	}
	for _, in := range bad {
		if got, err := ParseExtensions([]string{"ok", in}); !errors.Is(err, ErrBadExtension) || got != nil {
			t.Errorf("ParseExtensions(%q) = %+v, %v; want ErrBadExtension", in, got, err)
		}
	}
}

func TestExtensionString(t *testing.T) {
	e := Extension{Name: "permessage-deflate", Params: []ExtensionParam{
		{Name: "client_max_window_bits"},
		{Name: "server_max_window_bits", Value: "10", HasValue: true},
		{Name: "odd", Value: `a "b"\c`, HasValue: true},
		{Name: "empty", HasValue: true},
	}}
	want := `permessage-deflate; client_max_window_bits; server_max_window_bits=10; odd="a \"b\"\\c"; empty=""`
	if got := e.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got := FormatExtensions([]Extension{{Name: "a"}, e}); got != "a, "+want {
		t.Fatalf("FormatExtensions = %q", got)
	}
	if got := FormatExtensions(nil); got != "" {
		t.Fatalf("FormatExtensions(nil) = %q", got)
	}
}
