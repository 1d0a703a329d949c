package httpsyntax

import (
	"strings"
	"testing"
)

func TestIsToken(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want bool
	}{
		{"letters and dash", "X-Custom", true},
		{"every tchar symbol", "!#$%&'*+-.^_`|~", true},
		{"digits", "123", true},
		{"empty", "", false},
		{"space", "X Bad", false},
		{"colon", "X:", false},
		{"separator", "a/b", false},
		{"non-ASCII", "caf\xc3\xa9", false},
		{"NUL", "a\x00", false},
	}
	for _, tt := range tests {
		if got := IsToken(tt.in); got != tt.want {
			t.Errorf("%s: IsToken(%q) = %v, want %v", tt.desc, tt.in, got, tt.want)
		}
	}
}

func TestIsTokenChar(t *testing.T) {
	const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for c := 0; c < 256; c++ {
		if got, want := IsTokenChar(byte(c)), strings.IndexByte(tchar, byte(c)) >= 0; got != want {
			t.Errorf("IsTokenChar(%q) = %v", byte(c), got)
		}
	}
}

func TestIsFieldValue(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want bool
	}{
		{"plain", "text/plain; charset=utf-8", true},
		{"empty", "", true},
		{"HTAB", "a\tb", true},
		{"high bytes", "\x80\xff", true},
		{"CR LF", "a\r\nInjected: yes", false},
		{"NUL", "a\x00", false},
		{"DEL", "a\x7f", false},
	}
	for _, tt := range tests {
		if got := IsFieldValue(tt.in); got != tt.want {
			t.Errorf("%s: IsFieldValue(%q) = %v, want %v", tt.desc, tt.in, got, tt.want)
		}
	}
}

func TestServerOnlyFields(t *testing.T) {
	tests := []struct {
		desc          string
		name          string
		hop, reserved bool
	}{
		{"Connection", "Connection", true, false},
		{"lower case", "keep-alive", true, false},
		{"upper case", "TRANSFER-ENCODING", true, false},
		{"TE", "TE", true, false},
		{"Trailer", "Trailer", true, false},
		{"Upgrade", "Upgrade", true, false},
		{"Proxy-Authenticate", "Proxy-Authenticate", true, false},
		{"Proxy-Authorization", "Proxy-Authorization", true, false},
		{"Proxy-Connection", "proxy-connection", true, false},
		{"Status", "status", false, true},
		{"an end-to-end field", "Content-Type", false, false},
		{"a prefix of a hop-by-hop name", "Connect", false, false},
	}
	for _, tt := range tests {
		if got := IsHopByHop(tt.name); got != tt.hop {
			t.Errorf("%s: IsHopByHop(%q) = %v, want %v", tt.desc, tt.name, got, tt.hop)
		}
		if got := IsReserved(tt.name); got != tt.reserved {
			t.Errorf("%s: IsReserved(%q) = %v, want %v", tt.desc, tt.name, got, tt.reserved)
		}
	}
}

func TestParseContentLength(t *testing.T) {
	tests := []struct {
		desc    string
		in      string
		want    int64
		wantErr bool
	}{
		{"zero", "0", 0, false},
		{"leading zeros", "0012", 12, false},
		{"largest accepted", "999999999999999999", 999999999999999999, false},
		{"too long", "1234567890123456789", 0, true},
		{"empty", "", 0, true},
		{"sign", "+5", 0, true},
		{"space", " 5", 0, true},
		{"letters", "abc", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseContentLength(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: ParseContentLength(%q) = %d, %v; want %d, error %v", tt.desc, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		desc       string
		in         string
		code       int
		reason     string
		errContain string
	}{
		{"OK", "200 OK", 200, "OK", ""},
		{"custom reason", "299 Custom Reason", 299, "Custom Reason", ""},
		{"HTAB inside", "404 Not\tFound", 404, "Not\tFound", ""},
		{"no reason", "200", 0, "", "three digits"},
		{"no space", "200OK", 0, "", "three digits"},
		{"letter in code", "20X OK", 0, "", "three digits"},
		{"leading space", " 200 OK", 0, "", "three digits"},
		{"four digits", "1000 X", 0, "", "three digits"},
		{"informational", "100 Continue", 0, "", "from 200 to 599"},
		{"below 100", "099 X", 0, "", "from 200 to 599"},
		{"600", "600 X", 0, "", "from 200 to 599"},
		{"trailing space", "200 OK ", 0, "", "whitespace"},
		{"two spaces", "200  OK", 0, "", "whitespace"},
		{"CR LF", "200 OK\r\n", 0, "", "control character"},
		{"injection", "200 OK\r\nX: y", 0, "", "control character"},
	}
	for _, tt := range tests {
		code, reason, err := ParseStatus(tt.in)
		switch {
		case tt.errContain == "" && err != nil:
			t.Errorf("%s: ParseStatus(%q): %v", tt.desc, tt.in, err)
		case tt.errContain != "" && (err == nil || !strings.Contains(err.Error(), tt.errContain)):
			t.Errorf("%s: ParseStatus(%q) error %v, want one containing %q", tt.desc, tt.in, err, tt.errContain)
		case err != nil && !strings.HasPrefix(err.Error(), "status "):
			t.Errorf("%s: error %q does not start with \"status \"", tt.desc, err)
		case code != tt.code || reason != tt.reason:
			t.Errorf("%s: ParseStatus(%q) = %d %q, want %d %q", tt.desc, tt.in, code, reason, tt.code, tt.reason)
		}
	}
}
