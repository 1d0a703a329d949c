package environ_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/*.txt")

// A golden file holds one case:
//
//	# comment lines, and options as "key: value" (all optional):
//	mount: /app                  scriptName, in escaped form ("" by default)
//	remote: [::1]:5555           r.RemoteAddr (192.0.2.7:40000 by default)
//	tls: on                      r.TLS set (off by default)
//	local: 127.0.0.1:8080        listener address; "none", or "unix:/path"
//	server-name: example.org     Gateway.ServerName
//	server-port: 8000            Gateway.ServerPort
//	software: lsgi/test          Gateway.ServerSoftware ("none" for "")
//	-- request --
//	GET / HTTP/1.1               raw request; each "\n" is sent as CRLF,
//	Host: example.com            "\xHH" as that byte and "\\" as '\'
//
//	-- environ --
//	NAME="value"                 sorted by name, values strconv.Quote'd,
//	                             or one line "error: <message>"
//
// go test ./environ -update rewrites everything after "-- environ --".
const (
	requestMark = "-- request --\n"
	environMark = "-- environ --\n"
)

type goldenCase struct {
	opts    map[string]string
	request []byte // raw bytes, CRLF line ends
	want    string // the expected section
	head    string // the file up to and including environMark
}

func parseGolden(data string) (*goldenCase, error) {
	opts, rest, ok := cutLine(data, requestMark)
	if !ok {
		return nil, fmt.Errorf("no %q line", strings.TrimSpace(requestMark))
	}
	req, want, ok := cutLine(rest, environMark)
	if !ok {
		return nil, fmt.Errorf("no %q line", strings.TrimSpace(environMark))
	}
	c := &goldenCase{
		opts: map[string]string{},
		want: want,
		head: data[:len(data)-len(want)],
	}
	for line := range strings.Lines(opts) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("option line %q is not key: value", line)
		}
		c.opts[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	raw, err := unbackslash(req)
	if err != nil {
		return nil, err
	}
	c.request = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
	return c, nil
}

// cutLine is strings.Cut for a mark that must be a whole line.
func cutLine(s, mark string) (before, after string, found bool) {
	if strings.HasPrefix(s, mark) {
		return "", s[len(mark):], true
	}
	if i := strings.Index(s, "\n"+mark); i >= 0 {
		return s[:i+1], s[i+1+len(mark):], true
	}
	return s, "", false
}

// unbackslash decodes "\xHH" and "\\" in a request section.
func unbackslash(s string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], `\\`):
			b = append(b, '\\')
			i++
		case strings.HasPrefix(s[i:], `\x`) && i+4 <= len(s):
			n, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad escape %q", s[i:i+4])
			}
			b = append(b, byte(n))
			i += 3
		default:
			return nil, fmt.Errorf("bad escape at %q", s[i:min(i+4, len(s))])
		}
	}
	return b, nil
}

// build parses the request of c and runs Build with c's options.
func (c *goldenCase) build(t *testing.T) (environ.Vars, error) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.request)))
	if err != nil {
		t.Fatalf("http.ReadRequest: %v", err)
	}
	r.RemoteAddr = "192.0.2.7:40000"
	if v, ok := c.opts["remote"]; ok {
		r.RemoteAddr = v
	}
	switch c.opts["tls"] {
	case "", "off":
	case "on":
		r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	default:
		t.Fatalf("tls: %q is not on or off", c.opts["tls"])
	}
	local, ok := c.opts["local"]
	if !ok {
		local = "127.0.0.1:8080"
	}
	if addr := localAddr(t, local); addr != nil {
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
	}
	gw := &environ.Gateway{
		ServerSoftware: "lsgi/test",
		ServerName:     c.opts["server-name"],
		ServerPort:     c.opts["server-port"],
	}
	if v, ok := c.opts["software"]; ok {
		gw.ServerSoftware = strings.TrimPrefix(v, "none")
	}
	return buildHTTP(nil, r, c.opts["mount"], gw)
}

func localAddr(t *testing.T, s string) net.Addr {
	t.Helper()
	switch {
	case s == "none":
		return nil
	case strings.HasPrefix(s, "unix:"):
		return &net.UnixAddr{Name: strings.TrimPrefix(s, "unix:"), Net: "unix"}
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatalf("local: %v", err)
	}
	return net.TCPAddrFromAddrPort(ap)
}

// format writes vars sorted by name, one NAME="value" per line.
func format(vars environ.Vars, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	lines := make([]string, len(vars))
	for i, v := range vars {
		lines[i] = v.Name + "=" + strconv.Quote(v.Value) + "\n"
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseGolden(string(data))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			vars, err := c.build(t)
			if err == nil {
				if cerr := environ.Check(vars); cerr != nil {
					t.Errorf("Check: %v", cerr)
				}
			}
			got := format(vars, err)
			if *update {
				if got != c.want {
					if err := os.WriteFile(file, []byte(c.head+got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			if got != c.want {
				t.Errorf("%s: environ differs (go test ./environ -update rewrites it)\ngot:\n%s\nwant:\n%s", file, got, c.want)
			}
		})
	}
}
