package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/appdb"
	"github.com/lsgi/lsgi/luabridge/lualib"
)

func TestSQLFlagsInServe(t *testing.T) {
	for _, tc := range []struct {
		desc       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"help lists them", []string{"serve", "-h"}, 0, "-http-allow"},
		{"a bad allow pattern", []string{"serve", "--http-allow", "http://example.com"}, 2, `lsgi: -http-allow: outbound: allow pattern "http://example.com"`},
		{"a database that is not PostgreSQL", []string{"serve", "--db", "mysql://root@localhost/x"}, 2, "lsgi: -db: appdb: database URL"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, strings.NewReader(""), &stdout, &stderr); code != tc.wantCode {
			t.Errorf("%s: exit code %d, want %d (stderr: %s)", tc.desc, code, tc.wantCode, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.wantStderr) {
			t.Errorf("%s: stderr %q lacks %q", tc.desc, stderr.String(), tc.wantStderr)
		}
	}
}

func TestSQLFlagsFill(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		args     []string
		dataDir  string
		kind     appdb.Kind
		maxRows  int
		maxBytes int64
	}{
		{"defaults", nil, "data", appdb.SQLite, appdb.DefaultMaxRows, appdb.DefaultMaxBytes},
		{"data folder and caps", []string{"--data", "/srv/lsgi", "--db-max-rows", "50", "--db-max-bytes", "4096"}, "/srv/lsgi", appdb.SQLite, 50, 4096},
		{"PostgreSQL", []string{"--db", "postgres://127.0.0.1:1/x?connect_timeout=1"}, "data", appdb.Postgres, appdb.DefaultMaxRows, appdb.DefaultMaxBytes},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		f := addSQLFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		s := &lualib.Services{}
		if err := f.fill(s, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		rows, bytes := s.DB.Limits()
		if s.DataDir != tc.dataDir || s.DB.Kind() != tc.kind || rows != tc.maxRows || bytes != tc.maxBytes || s.HTTP == nil {
			t.Errorf("%s: data %q, kind %s, caps %d/%d", tc.desc, s.DataDir, s.DB.Kind(), rows, bytes)
		}
		s.Close()
	}
}
