package tests

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestStartResponseMisuse checks every misuse of start_response. Uncaught,
// each gives a 500 and puts nothing of the bad call on the wire. Caught with
// pcall, each raises at the call site: the message starts with the app's
// file and line and names the bad value.
func TestStartResponseMisuse(t *testing.T) {
	s := startServer(t, "startresponse")
	callSite := regexp.MustCompile(`^RAISED: \S*misuse\.lua:\d+:`)
	for _, tc := range []struct {
		name  string
		names []string // the message names one of these (case-insensitive); empty: not checked
	}{
		{"status-number", []string{"200", "number"}},
		{"status-code-only", []string{"200"}},
		{"status-bad-digit", []string{"20X"}},
		{"status-no-space", []string{"200OK"}},
		{"status-leading-space", []string{" 200 OK"}},
		{"status-crlf", []string{"200 OK"}},
		{"status-injection", []string{"200 OK"}},
		{"status-099", []string{"099"}},
		{"status-1000", []string{"1000"}},
		{"status-100", []string{"100"}},
		{"status-600", []string{"600"}},
		{"status-nil", []string{"nil"}},
		{"headers-nil", []string{"nil"}},
		{"headers-string", []string{"string"}},
		{"headers-map", []string{"Content-Type"}},
		{"headers-flat", []string{"Content-Type", "string"}},
		{"value-number", []string{"Content-Length", "number"}},
		{"value-crlf", []string{"X-Bad"}},
		{"value-lf", []string{"X-Bad"}},
		{"value-cr", []string{"X-Bad"}},
		{"value-nul", []string{"X-Bad"}},
		{"name-empty", []string{`""`, "empty"}},
		{"name-space", []string{"X Y"}},
		{"name-colon", []string{"X:"}},
		{"name-number", []string{"42", "number"}},
		{"cl-not-digits", []string{"abc", "Content-Length"}},
		{"cl-negative", []string{"-1", "Content-Length"}},
		{"cl-differing", []string{"Content-Length"}},
		{"hop-connection", []string{"Connection"}},
		{"hop-keep-alive", []string{"Keep-Alive"}},
		{"hop-transfer-encoding", []string{"Transfer-Encoding"}},
		{"hop-te", []string{"TE"}},
		{"hop-trailer", []string{"Trailer"}},
		{"hop-upgrade", []string{"Upgrade"}},
		{"hop-proxy-authenticate", []string{"Proxy-Authenticate"}},
		{"hop-proxy-authorization", []string{"Proxy-Authorization"}},
		{"hop-lower-case", []string{"Connection"}},
		{"hop-upper-case", []string{"Transfer-Encoding"}},
		{"second-call", nil},
		{"second-call-after-failure", nil},
		{"second-call-exc-info-false", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, "/misuse/uncaught/"+tc.name)
			r.expectStatus(t, "uncaught", http.StatusInternalServerError)
			if strings.Contains(r.body, "NOT RAISED") {
				t.Errorf("uncaught: the bad call did not raise: body %q", r.body)
			}
			for _, h := range []string{"X-Injected", "Set-Cookie", "X-Bad", "Upgrade", "Trailer", "Keep-Alive", "Proxy-Authenticate"} {
				if v := r.header.Values(h); len(v) > 0 {
					t.Errorf("uncaught: header %s: %q reached the client", h, v)
				}
			}

			r = s.get(t, "/misuse/caught/"+tc.name)
			r.expectStatus(t, "caught", http.StatusOK)
			if !strings.HasPrefix(r.body, "RAISED: ") {
				t.Fatalf("caught: the bad call did not raise: body %q", r.body)
			}
			if !callSite.MatchString(r.body) {
				t.Errorf("caught: message %q does not start with the app's file and line", r.body)
			}
			if len(tc.names) > 0 {
				msg := strings.ToLower(r.body)
				found := false
				for _, n := range tc.names {
					found = found || strings.Contains(msg, strings.ToLower(n))
				}
				if !found {
					t.Errorf("caught: message %q names none of %q", r.body, tc.names)
				}
			}
		})
	}
	s.get(t, "/misuse/caught/no-such-case").expect(t, "after the misuses", http.StatusNotFound, "no such case")
}

// TestExcInfo checks start_response with exc_info: before the headers went
// out it replaces status and headers; after, it re-raises exc_info itself
// and the response is aborted.
func TestExcInfo(t *testing.T) {
	s := startServer(t, "startresponse")

	for _, path := range []string{"/excinfo/before", "/excinfo/before-lazy"} {
		t.Run("before headers "+path, func(t *testing.T) {
			r := s.get(t, path)
			want := "replaced"
			if path == "/excinfo/before-lazy" {
				want = "E"
			}
			r.expect(t, "GET "+path, 418, want)
			if v := r.header.Get("X-Second"); v != "2" {
				t.Errorf("X-Second = %q, want the second call's header", v)
			}
			if v := r.header.Values("X-First"); len(v) > 0 {
				t.Errorf("X-First = %q, want the first call's headers dropped", v)
			}
		})
	}

	for _, path := range []string{"/excinfo/after-write", "/excinfo/after-yield"} {
		t.Run("after headers "+path, func(t *testing.T) {
			c := s.dial(t)
			c.send(rawRequest("GET", path, nil, ""))
			r := c.read("GET")
			if r.StatusCode != http.StatusOK {
				t.Errorf("status %d, want the 200 already sent", r.StatusCode)
			}
			if !isChunked(r.Response) {
				t.Errorf("Transfer-Encoding %q, want chunked", r.TransferEncoding)
			}
			if r.bodyErr == nil {
				t.Errorf("body %q ended cleanly, want an aborted response", r.body)
			}
			if !strings.HasPrefix(r.body, "partial") || strings.Contains(r.body, "NOT RAISED") || strings.Contains(r.body, "failure") {
				t.Errorf("body %q, want \"partial\" and nothing after it", r.body)
			}
			c.expectClosed("after the abort")
		})
	}

	t.Run("after headers, the error is exc_info itself", func(t *testing.T) {
		s.get(t, "/excinfo/after-identity").expect(t, "GET /excinfo/after-identity", http.StatusOK, "partial;ok=false;same=true")
	})

	s.get(t, "/excinfo/before").expect(t, "the server still serves", 418, "replaced")
}

// TestWrite checks the write() callable.
func TestWrite(t *testing.T) {
	s := startServer(t, "startresponse", "--states", "1")
	for _, tc := range []struct {
		name, path, body string
	}{
		{"write before a table result", "/write/before-table", "w1 w2 i1 i2"},
		{"write before a generator result", "/write/before-generator", "w1 i1 i2"},
		{"write only", "/write/only", "written"},
		{"write with a number raises", "/write/number", "raised=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.get(t, tc.path).expect(t, "GET "+tc.path, http.StatusOK, tc.body)
		})
	}
	t.Run("a write or start_response kept past its request raises", func(t *testing.T) {
		s.get(t, "/write/stash").expect(t, "GET /write/stash", http.StatusOK, "stashed")
		r := s.get(t, "/write/use-stash")
		r.expect(t, "GET /write/use-stash", http.StatusOK, "stash=true;write raised=true;start_response raised=true")
	})
}
