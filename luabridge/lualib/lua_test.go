package lualib

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsgi/lsgi/dict"
	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// newSafeState opens a Lua state the way the host does for an untrusted
// app: base, package, table, string, math, coroutine and the clock and date
// functions of os, an io that opens nothing and a read-only debug; no
// dofile or loadfile.
func newSafeState(t testing.TB) *lua.LState {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	if err := luabridge.OpenLibs(L, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(L.Close)
	return L
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is one test's app folder and toolkit.
type fixture struct {
	root   string // temp dir holding app/ and files outside it
	app    string // the app's folder
	logs   *syncBuffer
	shared *Shared
	// services are the fixture's own: a data folder in root, two
	// environment variables open to the app, two host-wide dictionaries.
	services *Services
	clock    *testClock // the shared dictionaries' clock
}

// testClock is a clock that moves only when a test says so.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newFixture copies testdata/app into a temp dir and adds what cannot be
// committed: symbolic links in and out of the static folder, a secret
// outside the app, and a file large enough to be streamed.
func newFixture(t testing.TB, dev bool) *fixture {
	t.Helper()
	root := t.TempDir()
	app := filepath.Join(root, "app")
	if err := os.CopyFS(app, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(root, "outside-secret.txt")
	must(os.WriteFile(outside, []byte("OUTSIDE SECRET\n"), 0o644))
	static := filepath.Join(app, "static")
	must(os.Symlink("../../outside-secret.txt", filepath.Join(static, "escape.txt")))
	must(os.Symlink(outside, filepath.Join(static, "absolute.txt")))
	must(os.Symlink("../secret.txt", filepath.Join(static, "up.txt")))
	must(os.Symlink("site.css", filepath.Join(static, "alias.css")))
	must(os.Symlink("..", filepath.Join(static, "parent")))
	big := make([]byte, 200*1024+123)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	must(os.WriteFile(filepath.Join(static, "big.txt"), big, 0o644))
	// Give the committed files an old modification time, as a deployed app
	// has, so that the template cache does not see them as racy.
	old := time.Now().Add(-time.Hour)
	must(filepath.Walk(app, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, old, old)
	}))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	services := &Services{
		Shared:      dict.NewMemory(dict.Options{Now: clock.Now}),
		DataDir:     filepath.Join(root, "data"),
		Env:         map[string]string{"LSGI_TEST_NAME": "ann", "LSGI_TEST_EMPTY": "", "APP_GREETING": "Hello"},
		EnvAllow:    []string{"LSGI_TEST_*", "LSGI_UNSET", "APP_*"},
		SharedDicts: map[string]int64{"everyone": 0, "tiny": 4096},
	}
	t.Cleanup(func() { services.Close() })
	return &fixture{root: root, app: app, logs: logs, services: services, clock: clock,
		shared: NewShared(Options{FS: os.DirFS(app), Dev: dev, Logger: logger, App: "app", Services: services})}
}

// preloadTestModules adds the test-only modules: check and fake (Lua, from
// testdata) and gotest (Go helpers for files, logs and gzip).
func (f *fixture) preloadTestModules(t testing.TB, L *lua.LState) {
	for _, name := range []string{"check", "fake"} {
		src, err := os.ReadFile(filepath.Join("testdata", name+".lua"))
		if err != nil {
			t.Fatal(err)
		}
		fn, err := L.LoadString(string(src))
		if err != nil {
			t.Fatalf("testdata/%s.lua: %v", name, err)
		}
		L.PreloadModule(name, func(L *lua.LState) int {
			L.Push(fn)
			L.Call(0, 1)
			return 1
		})
	}
	L.PreloadModule("gotest", func(L *lua.LState) int {
		inApp := func(L *lua.LState) string {
			rel := L.CheckString(1)
			if !filepath.IsLocal(rel) {
				L.ArgError(1, "path must stay inside the app folder")
			}
			return filepath.Join(f.app, rel)
		}
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			// write(rel, content [, mtime]) writes a file in the app folder.
			"write": func(L *lua.LState) int {
				p := inApp(L)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					L.RaiseError("%v", err)
				}
				if err := os.WriteFile(p, []byte(L.CheckString(2)), 0o644); err != nil {
					L.RaiseError("%v", err)
				}
				if L.Get(3) != lua.LNil {
					mt := time.Unix(int64(L.CheckNumber(3)), 0)
					if err := os.Chtimes(p, mt, mt); err != nil {
						L.RaiseError("%v", err)
					}
				}
				return 0
			},
			// mtime(rel) -> the file's modification time (Unix seconds).
			"mtime": func(L *lua.LState) int {
				fi, err := os.Stat(inApp(L))
				if err != nil {
					L.RaiseError("%v", err)
				}
				L.Push(lua.LNumber(fi.ModTime().Unix()))
				return 1
			},
			// advance(seconds) moves the shared dictionaries' clock.
			"advance": func(L *lua.LState) int {
				f.clock.advance(time.Duration(float64(L.CheckNumber(1)) * float64(time.Second)))
				return 0
			},
			// logs() -> everything logged so far.
			"logs": func(L *lua.LState) int {
				L.Push(lua.LString(f.logs.String()))
				return 1
			},
			// gunzip(s) -> the decompressed text, or raises.
			"gunzip": func(L *lua.LState) int {
				r, err := gzip.NewReader(strings.NewReader(L.CheckString(1)))
				if err != nil {
					L.RaiseError("gunzip: %v", err)
				}
				out, err := io.ReadAll(r)
				if err != nil {
					L.RaiseError("gunzip: %v", err)
				}
				L.Push(lua.LString(out))
				return 1
			},
		})
		L.Push(mod)
		return 1
	})
}

// newLuaTestState returns a preloaded safe state for fixture f.
func (f *fixture) state(t testing.TB) *lua.LState {
	L := newSafeState(t)
	f.shared.Preload(L)
	f.preloadTestModules(t, L)
	return L
}

// luaTestNames loads a test file and returns the names of its tests: the
// keys of the table it returns whose values are functions, sorted.
func luaTestNames(t *testing.T, file string) []string {
	f := newFixture(t, false)
	L := f.state(t)
	if err := L.DoFile(file); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	tests, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("%s must return a table of test functions", file)
	}
	var names []string
	tests.ForEach(func(k, v lua.LValue) {
		if _, ok := v.(*lua.LFunction); ok {
			names = append(names, k.String())
		}
	})
	sort.Strings(names)
	return names
}

// TestLua runs every testdata/*_test.lua file: one subtest per file and one
// per test function in it, each in a fresh state with a fresh app folder.
func TestLua(t *testing.T) {
	files, err := filepath.Glob("testdata/*_test.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Lua tests found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), "_test.lua"), func(t *testing.T) {
			for _, name := range luaTestNames(t, file) {
				t.Run(name, func(t *testing.T) {
					dev := strings.Contains(name, "dev")
					f := newFixture(t, dev)
					L := f.state(t)
					if err := L.DoFile(file); err != nil {
						t.Fatalf("%s: %v", file, err)
					}
					fn := L.GetField(L.Get(-1), name)
					if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
						t.Fatalf("%v", err)
					}
				})
			}
		})
	}
}
