package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/dict"
)

// TestServiceFlagErrors: a bad services flag stops lsgi serve before it
// listens, with status 2 and a message naming the flag's problem.
func TestServiceFlagErrors(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want string
	}{
		{"an unknown store", []string{"--shared", "mysql://x"}, "-shared: want memory, or a redis://HOST:PORT/DB URL"},
		{"a bad Redis URL", []string{"--shared", "redis://h:p:q/0"}, "-shared: dict: redis URL"},
		{"a short secret", []string{"--secret", "short"}, "has 5 bytes; at least 16"},
		{"a dictionary without a size", []string{"--shared-dict", "sessions"}, "want NAME:SIZE"},
		{"a dictionary with a bad name", []string{"--shared-dict", "a b:1m"}, "only letters, digits"},
		{"a dictionary too small", []string{"--shared-dict", "s:10"}, "at least 1024 bytes"},
		{"a bad default size", []string{"--shared-size", "huge"}, "-shared-size \"huge\""},
		{"a bad env pattern", []string{"--env", "A=B"}, "not a variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"serve", "--bind", "127.0.0.1:0"}, tt.args...)
			code := run(append(args, t.TempDir()), strings.NewReader(""), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (stderr: %s)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestServiceFlagsBuild(t *testing.T) {
	t.Setenv("LSGI_SECRET", "a secret from the environment")
	t.Setenv("APP_ONE", "1")
	t.Setenv("APP_TWO", "2")
	t.Setenv("OTHER", "x")
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	f := addServiceFlags(fs)
	err := fs.Parse([]string{"--env", "APP_*,UNSET", "--env", "OTHER", "--shared-dict", "sessions:10m,cache:64k",
		"--shared-dict", "more:1g", "--data", "/srv/lsgi", "--shared-size", "2m"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.build(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if string(s.Secret) != "a secret from the environment" {
		t.Errorf("secret %q", s.Secret)
	}
	if len(s.Env) != 3 || s.Env["APP_ONE"] != "1" || s.Env["OTHER"] != "x" {
		t.Errorf("env %v", s.Env)
	}
	if strings.Join(s.EnvAllow, ",") != "APP_*,UNSET,OTHER" {
		t.Errorf("env patterns %v", s.EnvAllow)
	}
	if s.SharedDicts["sessions"] != 10<<20 || s.SharedDicts["cache"] != 64<<10 || s.SharedDicts["more"] != 1<<30 {
		t.Errorf("dictionaries %v", s.SharedDicts)
	}
	if s.DataDir != "/srv/lsgi" {
		t.Errorf("data folder %q", s.DataDir)
	}
	d, err := s.Shared.Open("ns", "d", 0)
	if err != nil || d.Size() != 2<<20 {
		t.Errorf("the default size is not --shared-size: %v, %v", d, err)
	}
	if _, ok := s.Shared.(*dict.Memory); !ok {
		t.Errorf("the default store is %T, want memory", s.Shared)
	}
	// --secret wins over the environment.
	fs = flag.NewFlagSet("test", flag.ContinueOnError)
	f = addServiceFlags(fs)
	fs.Parse([]string{"--secret", "a secret from the command line"})
	s2, err := f.build(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || string(s2.Secret) != "a secret from the command line" || s2.DataDir != "data" {
		t.Errorf("%q %q %v", s2.Secret, s2.DataDir, err)
	}
	s2.Close()
}
