package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestBlocked(t *testing.T) {
	for addr, blocked := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "192.168.0.9": true, "169.254.169.254": true,
		"100.64.0.1": true, "::ffff:10.0.0.1": true, "0.0.0.0": true, "64:ff9b::a00:1": true,
		"8.8.8.8": false, "2606:4700::1111": false,
	} {
		if got := Blocked(netip.MustParseAddr(addr)); (got != "") != blocked {
			t.Errorf("Blocked(%s) = %q, want blocked %v", addr, got, blocked)
		}
	}
}

func TestHost(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]net.IPAddr, error) {
		switch host {
		case "mixed.test":
			return []net.IPAddr{{IP: net.ParseIP("8.8.8.8")}, {IP: net.ParseIP("169.254.169.254")}}, nil
		case "public.test":
			return []net.IPAddr{{IP: net.ParseIP("8.8.4.4")}}, nil
		}
		return nil, errors.New("no such host")
	}
	tests := []struct {
		host    string
		blocked string // the address reported, "" for none
		err     bool
	}{
		{"public.test", "", false},
		{"mixed.test", "169.254.169.254", false}, // any internal answer refuses the name
		{"10.0.0.1", "10.0.0.1", false},
		{"nowhere.test", "", true},
	}
	for _, tt := range tests {
		a, why, err := Host(context.Background(), lookup, tt.host)
		if (err != nil) != tt.err || (why != "") != (tt.blocked != "") || (tt.blocked != "" && a.String() != tt.blocked) {
			t.Errorf("Host(%s) = %v, %q, %v; want blocked %q, error %v", tt.host, a, why, err, tt.blocked, tt.err)
		}
	}
}

func TestControl(t *testing.T) {
	if err := Control("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Control(127.0.0.1:80) = %v, want ErrRefused", err)
	}
	if err := Control("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("Control(8.8.8.8:443) = %v, want nil", err)
	}
}
