package environ_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

// readRequest parses a raw request and fails the test if it does not parse.
func readRequest(t testing.TB, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("http.ReadRequest(%q): %v", raw, err)
	}
	r.RemoteAddr = "192.0.2.1:1234"
	return r
}

// buildHTTP is Build for an *http.Request, as the host's net/http handler
// calls it.
func buildHTTP(dst environ.Vars, r *http.Request, scriptName string, gw *environ.Gateway) (environ.Vars, error) {
	req := environ.RequestFromHTTP(r)
	return environ.Build(dst, &req, scriptName, gw)
}
