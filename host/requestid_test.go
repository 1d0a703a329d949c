package host

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// generatedID matches the ids the host makes.
var generatedID = regexp.MustCompile(`^[0-9a-z]{10}-[0-9a-z]+$`)

func TestRequestID(t *testing.T) {
	app := App{Mount: "/id", Name: "id", Source: `return function(e, sr)
		sr("200 OK", {{"Content-Type", "text/plain"}})
		return {e["lsgi.request_id"]}
	end`}
	tests := []struct {
		desc, remote, incoming string
		send                   bool
		want                   string // the id, "generated" for one the host made
	}{
		{"a trusted proxy's id is kept", "127.0.0.1:1000", "req-abc-123", true, "req-abc-123"},
		{"a trusted IPv6 proxy's id is kept", "[::1]:1000", "abc", true, "abc"},
		{"an untrusted peer's id is replaced", "192.0.2.7:1000", "req-abc-123", true, "generated"},
		{"no id: one is made", "127.0.0.1:1000", "", true, "generated"},
		{"an id with a space is replaced", "127.0.0.1:1000", "a b", true, "generated"},
		{"an id with a quote is replaced", "127.0.0.1:1000", `a"b`, true, "generated"},
		{"an overlong id is replaced", "127.0.0.1:1000", strings.Repeat("x", maxRequestID+1), true, "generated"},
		{"the longest id is kept", "127.0.0.1:1000", strings.Repeat("x", maxRequestID), true, strings.Repeat("x", maxRequestID)},
		{"no response field unless asked", "127.0.0.1:1000", "kept", false, "kept"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h, _ := newTestHandler(t, Config{Plugins: []PluginSource{app}, SendRequestID: tt.send})
			req := httptest.NewRequest("GET", "/id", nil)
			req.RemoteAddr = tt.remote
			if tt.incoming != "" {
				req.Header.Set("X-Request-Id", tt.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			id := rec.Body.String()
			switch {
			case tt.want == "generated" && !generatedID.MatchString(id):
				t.Errorf("lsgi.request_id = %q, want a generated one", id)
			case tt.want != "generated" && id != tt.want:
				t.Errorf("lsgi.request_id = %q, want %q", id, tt.want)
			}
			got := rec.Header().Values("X-Request-Id")
			if tt.send && (len(got) != 1 || got[0] != id) {
				t.Errorf("X-Request-Id fields %q, want [%q]", got, id)
			}
			if !tt.send && len(got) != 0 {
				t.Errorf("X-Request-Id sent without SendRequestID: %q", got)
			}
		})
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if seen[id] || !generatedID.MatchString(id) {
			t.Fatalf("id %q repeated or malformed", id)
		}
		seen[id] = true
	}
}

// TestRequestIDInLogs follows one request's id into the host's error log,
// the app's lsgi.errors and lsgi.log records, and a host page's field.
func TestRequestIDInLogs(t *testing.T) {
	logs := &syncBuffer{}
	h, err := New(Config{SendRequestID: true, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Plugins: []PluginSource{
		App{Mount: "/fail", Name: "fail", Source: `local log = require "lsgi.log"
			return function(e, sr)
				e["lsgi.errors"]:write("via errors\n")
				log.warn("via lsgi.log", {step = 1})
				error("boom")
			end`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	req := httptest.NewRequest("GET", "/fail", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("X-Request-Id", "trace-77")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("X-Request-Id") != "trace-77" {
		t.Errorf("got %d with X-Request-Id %q, want 500 with trace-77", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	want := map[string]bool{"via errors": false, "via lsgi.log": false, "app error": false}
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		msg, _ := rec["msg"].(string)
		if _, ok := want[msg]; ok {
			want[msg] = true
			if rec["request_id"] != "trace-77" || rec["app"] != "fail" {
				t.Errorf("record %q carries request_id %v, app %v; want trace-77, fail", msg, rec["request_id"], rec["app"])
			}
		}
	}
	for msg, seen := range want {
		if !seen {
			t.Errorf("no %q record in\n%s", msg, logs)
		}
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nowhere", nil))
	if rec.Code != http.StatusNotFound || !generatedID.MatchString(rec.Header().Get("X-Request-Id")) {
		t.Errorf("a 404 got X-Request-Id %q", rec.Header().Get("X-Request-Id"))
	}
}
