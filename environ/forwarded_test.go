package environ

import (
	"errors"
	"net/http/httptest"
	"testing"
)

func TestProxiesApply(t *testing.T) {
	trusted, err := ParseProxies([]string{"127.0.0.1", "::1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc    string
		remote  string
		headers map[string]string
		want    map[string]string // "" means absent
		wantErr error
	}{
		{"no headers", "127.0.0.1:5000", nil,
			map[string]string{"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "5000", "lsgi.url_scheme": "http"}, nil},
		{"trusted peer: last X-Forwarded-For entry", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"},
			map[string]string{"REMOTE_ADDR": "203.0.113.7", "REMOTE_PORT": "", "lsgi.proxy_addr": "127.0.0.1"}, nil},
		{"trusted IPv6 peer and proto", "[::1]:5000", map[string]string{"X-Forwarded-Proto": "https"},
			map[string]string{"lsgi.url_scheme": "https", "HTTPS": "on", "REMOTE_ADDR": "::1"}, nil},
		{"trusted prefix and host", "10.1.2.3:80", map[string]string{"X-Forwarded-Host": "example.org:8443"},
			map[string]string{"SERVER_NAME": "example.org", "SERVER_PORT": "8443"}, nil},
		{"host without port takes the scheme's", "127.0.0.1:1", map[string]string{"X-Forwarded-Host": "example.org", "X-Forwarded-Proto": "https"},
			map[string]string{"SERVER_NAME": "example.org", "SERVER_PORT": "443"}, nil},
		{"untrusted peer changes nothing", "192.0.2.9:5000", map[string]string{"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil"},
			map[string]string{"REMOTE_ADDR": "192.0.2.9", "lsgi.url_scheme": "http", "HTTPS": "", "HTTP_X_FORWARDED_FOR": "6.6.6.6", "lsgi.proxy_addr": ""}, nil},
		{"conflicting schemes", "127.0.0.1:1", map[string]string{"X-Forwarded-Proto": "https, http"}, nil, ErrConflictingProxyHeaders},
		{"garbage address ignored", "127.0.0.1:1", map[string]string{"X-Forwarded-For": "not-an-ip"},
			map[string]string{"REMOTE_ADDR": "127.0.0.1"}, nil},
		{"Unix socket peer counts as loopback", "@", map[string]string{"X-Forwarded-For": "203.0.113.7"},
			map[string]string{"REMOTE_ADDR": "203.0.113.7"}, nil},
		{"hostile host ignored", "127.0.0.1:1", map[string]string{"X-Forwarded-Host": "a/b@c"},
			map[string]string{"SERVER_NAME": "localhost"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			req := RequestFromHTTP(r)
			vars, err := Build(nil, &req, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			vars, err = trusted.Apply(vars, r.RemoteAddr)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Apply error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			for name, want := range tt.want {
				got, ok := vars.Get(name)
				if want == "" && ok || want != "" && got != want {
					t.Errorf("%s = %q (present %v), want %q", name, got, ok, want)
				}
			}
			if err := Check(vars); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	for _, bad := range []string{"nonsense", "10.0.0.0/99"} {
		if _, err := ParseProxies([]string{bad}); err == nil {
			t.Errorf("ParseProxies(%q) accepted it", bad)
		}
	}
	any, err := ParseProxies([]string{"*"})
	if err != nil || !any.Trusts("198.51.100.1:1") || !any.Trusts("[2001:db8::1]:1") {
		t.Errorf("* does not trust everyone (%v)", err)
	}
	var none Proxies
	if none.Trusts("127.0.0.1:1") {
		t.Error("the zero Proxies trusts a peer")
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		desc string
		addr string
		want bool
	}{
		{"IPv4 loopback", "127.0.0.1", true},
		{"anywhere in 127/8", "127.1.2.3", true},
		{"IPv6 loopback", "::1", true},
		{"mapped IPv4 loopback", "::ffff:127.0.0.1", true},
		{"with a port", "127.0.0.1:5000", true},
		{"IPv6 with a port", "[::1]:5000", true},
		{"another address", "10.0.0.1", false},
		{"another address with a port", "192.0.2.1:80", false},
		{"empty", "", false},
		{"a name", "localhost", false},
		{"brackets without a port", "[::1]", false},
		{"a Unix socket peer", "@", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.addr); got != tt.want {
			t.Errorf("%s: IsLoopback(%q) = %v, want %v", tt.desc, tt.addr, got, tt.want)
		}
	}
}
