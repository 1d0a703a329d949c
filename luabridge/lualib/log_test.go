package lualib

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestLog(t *testing.T) {
	long := strings.Repeat("é", maxLogValue) // two bytes each: cut in the middle of none
	tests := []struct {
		desc, code string
		wantErr    string         // a part of the Lua error, "" for none
		want       map[string]any // the record's attributes that matter; nil: no record
	}{
		{"a message", `log.info("started")`, "",
			map[string]any{"level": "INFO", "msg": "started", "app": "shop", "via": "lsgi.log"}},
		{"each level", `log.warn("w")`, "", map[string]any{"level": "WARN", "msg": "w"}},
		{"error", `log.error("e")`, "", map[string]any{"level": "ERROR", "msg": "e"}},
		{"debug", `log.debug("d")`, "", map[string]any{"level": "DEBUG", "msg": "d"}},
		{"fields of each kind", `log.info("order", {id = 42, total = 9.5, paid = true, user = "ann"})`, "",
			map[string]any{"fields": map[string]any{"id": 42.0, "total": 9.5, "paid": true, "user": "ann"}}},
		{"fields cannot replace the host's attributes", `log.info("x", {app = "evil", msg = "forged", level = "ERROR"})`, "",
			map[string]any{"app": "shop", "msg": "x", "level": "INFO", "fields": map[string]any{"app": "evil", "msg": "forged", "level": "ERROR"}}},
		{"a message with a newline stays one record", `log.info("a\n{\"msg\":\"forged\"}")`, "",
			map[string]any{"msg": "a\n{\"msg\":\"forged\"}"}},
		{"a long value is cut", `log.info("x", {v = string.rep("é", ` + strconv.Itoa(maxLogValue) + `)})`, "",
			map[string]any{"truncated": true, "fields": map[string]any{"v": long[:maxLogValue] + "…"}}},
		{"a long message is cut", `log.info(string.rep("m", ` + strconv.Itoa(maxLogMessage+10) + `))`, "",
			map[string]any{"truncated": true, "msg": strings.Repeat("m", maxLogMessage) + "…"}},
		{"nil fields", `log.info("x", nil)`, "", map[string]any{"msg": "x"}},
		{"a number key", `log.info("x", {"positional"})`, "field names must be strings, got number 1", nil},
		{"a bad key", `log.info("x", {["a b"] = 1})`, `field name "a b"`, nil},
		{"a table value", `log.info("x", {t = {}})`, `field "t" is a table`, nil},
		{"a function value", `log.info("x", {f = print})`, `field "f" is a function`, nil},
		{"too many fields", `local f = {} for i = 1, 33 do f["k" .. i] = i end log.info("x", f)`, "more than 32 fields", nil},
		{"no message", `log.info()`, "string expected", nil},
		{"fields not a table", `log.info("x", 3)`, "table expected", nil},
		{"a failing call can be caught", `local ok, err = pcall(log.info, "x", {t = {}}) assert(not ok and err:find("lsgi.log.info"))`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			L := lua.NewState()
			defer L.Close()
			NewShared(Options{Logger: logger, App: "shop"}).Preload(L)
			err := L.DoString(`local log = require "lsgi.log"` + "\n" + tt.code)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if buf.Len() != 0 {
					t.Errorf("a failed call logged %s", buf.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if buf.Len() != 0 {
					t.Errorf("logged %s, want nothing", buf.String())
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1:\n%s", len(lines), buf.String())
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, lines[0])
			}
			for k, want := range tt.want {
				got, _ := json.Marshal(rec[k])
				wantJSON, _ := json.Marshal(want)
				if !bytes.Equal(got, wantJSON) {
					t.Errorf("%s = %s, want %s", k, got, wantJSON)
				}
			}
		})
	}
}

// TestLogLevelFiltered checks that a record below the logger's level is
// dropped but still checked.
func TestLogLevelFiltered(t *testing.T) {
	var buf bytes.Buffer
	L := lua.NewState()
	defer L.Close()
	NewShared(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil)), App: "a"}).Preload(L)
	if err := L.DoString(`local log = require "lsgi.log" log.debug("hidden", {n = 1})`); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("a debug record passed an info logger: %s", buf.String())
	}
	if err := L.DoString(`require("lsgi.log").debug("hidden", {t = {}})`); err == nil {
		t.Error("bad fields of a dropped record raised nothing")
	}
}

// logLine finds what an example of docs/modules/log.md expects in the log:
// `-- log: TEXT`, TEXT being a part of one record.
var logLine = regexp.MustCompile(`(?m)^\s*-- log: (.*?)\s*$`)

// TestLogDocs runs the examples of docs/modules/log.md, as
// TestDocsExamples does, and checks the records each one says it logs.
func TestLogDocs(t *testing.T) {
	src, err := os.ReadFile("../../docs/modules/log.md")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, m := range luaBlock.FindAllStringSubmatch(string(src), -1) {
		code := m[1]
		wants := logLine.FindAllStringSubmatch(code, -1)
		if len(wants) == 0 {
			continue
		}
		t.Run(fmt.Sprintf("log.md#%d", i+1), func(t *testing.T) {
			f := newFixture(t, false)
			L := f.state(t)
			if err := L.DoString(docsPrelude); err != nil {
				t.Fatal(err)
			}
			if err := L.DoString(code); err != nil {
				t.Fatalf("%v\n%s", err, code)
			}
			L.SetGlobal("example_app", L.Get(-1))
			L.SetGlobal("example_code", lua.LString(code))
			requests := L.NewTable()
			for _, m := range requestLine.FindAllStringSubmatch(code, -1) {
				r := L.NewTable()
				for i, v := range m[1:] {
					r.RawSetInt(i+1, lua.LString(v))
				}
				requests.Append(r)
			}
			L.SetGlobal("example_requests", requests)
			if err := L.DoString(docsRequests); err != nil {
				t.Fatalf("%v\n%s", err, code)
			}
			logs := f.logs.String()
			for _, w := range wants {
				if !strings.Contains(logs, w[1]) {
					t.Errorf("the log lacks %q:\n%s", w[1], logs)
				}
			}
		})
		checked++
	}
	if checked < 2 {
		t.Errorf("found %d examples with -- log: lines, want at least 2", checked)
	}
}
