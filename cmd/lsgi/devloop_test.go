package main

import (
	"net"
	"testing"
)

func TestBaseURL(t *testing.T) {
	tests := []struct {
		desc string
		addr net.Addr
		want string
		ok   bool
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}, "http://127.0.0.1:8000", true},
		{"every IPv4 address", &net.TCPAddr{IP: net.IPv4zero, Port: 80}, "http://127.0.0.1:80", true},
		{"every IPv6 address", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8000}, "http://[::1]:8000", true},
		{"a LAN address", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8000}, "http://10.0.0.5:8000", true},
		{"a Unix socket", &net.UnixAddr{Name: "/run/lsgi.sock", Net: "unix"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, ok := baseURL(tc.addr)
			if got != tc.want || ok != tc.ok {
				t.Errorf("baseURL(%v) = %q, %v; want %q, %v", tc.addr, got, ok, tc.want, tc.ok)
			}
		})
	}
}
