//go:build !js

package wspeer

import (
	"context"
	"testing"
)

// TestURLZoneKept: an IPv6 zone survives parsing and resolving, for the
// dial; the Host header leaves it out.
func TestURLZoneKept(t *testing.T) {
	tg, err := parseURL("ws://[fe80::1%25eth0]:9000/")
	if err != nil {
		t.Fatal(err)
	}
	if tg.host != "fe80::1%eth0" {
		t.Fatalf("host %q", tg.host)
	}
	addrs, err := resolve(context.Background(), tg.host, testTimeout)
	if err != nil || len(addrs) != 1 || addrs[0].Zone != "eth0" || addrs[0].String() != "fe80::1%eth0" {
		t.Fatalf("resolve: %v, %v", addrs, err)
	}
	if h := hostHeaderOf(tg); h != "[fe80::1]:9000" {
		t.Errorf("Host %q", h)
	}
}
