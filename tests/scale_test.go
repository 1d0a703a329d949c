package tests

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Many plugins, end to end: the real binary serves a generated folder of a
// few thousand plugins, more than the host loads eagerly (Config.LazyAbove),
// so their Lua states open at their first requests (docs/PERFORMANCE.md,
// "10,000 plugins"; tests/load/scale.sh measures the same with 10,000).

const (
	manyFiles   = 2000 // NAME.lua plugins
	manyFolders = 1000 // NAME/init.lua plugins
)

// writeManyPlugins generates the folder: fN.lua answering "fN", dN/init.lua
// answering "dN" through a module of its folder, a plugin that does not
// compile and one whose main chunk raises.
func writeManyPlugins(t *testing.T, dir string) {
	t.Helper()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range manyFiles {
		write(fmt.Sprintf("f%d.lua", i), textApp(fmt.Sprintf("f%d", i)))
	}
	for i := range manyFolders {
		write(fmt.Sprintf("d%d/name.lua", i), fmt.Sprintf("return %q\n", fmt.Sprintf("d%d", i)))
		write(fmt.Sprintf("d%d/init.lua", i), `local name = require "name"
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {name}
end
`)
	}
	write("broken.lua", "-- does not compile\nreturn function(environ, start_response)\n  start_response(\"200 OK\", {}\nend\n")
	write("raises.lua", "local config = nil\nlocal port = config.port\nreturn function() end\n")
}

func TestManyPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("starts lsgi on 3,000 plugins; skipped under -short")
	}
	dir := filepath.Join(t.TempDir(), "plugins")
	writeManyPlugins(t, dir)
	s := startServerAt(t, dir, "--access-log", "off")

	// The plugin that does not compile is reported at start, with its
	// file and line; the one whose main chunk raises is not, yet.
	s.waitLog(t, regexp.MustCompile(`msg="app failed to load" app=broken .*broken\.lua:4`))
	s.waitLog(t, regexp.MustCompile(`msg="watching plugins for changes" .*folders=1001\b`))
	if line, ok := s.log.find(regexp.MustCompile(`app=raises .*failed`)); ok {
		t.Errorf("a main chunk ran at start, with %d plugins: %s", manyFiles+manyFolders+2, line)
	}

	// Every plugin answers, each from its first state.
	paths := make(chan string)
	go func() {
		defer close(paths)
		for i := range manyFiles {
			paths <- fmt.Sprintf("f%d", i)
		}
		for i := range manyFolders {
			paths <- fmt.Sprintf("d%d", i)
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	deadline := time.Now().Add(2 * time.Minute)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range paths {
				if time.Now().After(deadline) {
					continue // drain: the test has run out of time
				}
				req, err := http.NewRequest(http.MethodGet, s.base+"/"+name, nil)
				var r *response
				if err == nil {
					r, err = s.do(req)
				}
				if err == nil && r.status == 200 && r.body == name {
					continue
				}
				mu.Lock()
				failures = append(failures, fmt.Sprintf("/%s: %v %+v", name, err, r))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if time.Now().After(deadline) {
		t.Fatalf("the %d plugins did not all answer within 2 minutes", manyFiles+manyFolders)
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d plugins did not answer their name; first: %s", len(failures), manyFiles+manyFolders, failures[0])
	}

	// The main chunk that raises is reported at its first request, once.
	s.get(t, "/broken").expectStatus(t, "GET /broken", 500)
	for range 2 {
		s.get(t, "/raises").expectStatus(t, "GET /raises", 500)
	}
	s.waitLog(t, regexp.MustCompile(`msg="app failed to load" app=raises .*raises\.lua:2`))
	raised := regexp.MustCompile(`msg="app failed to load" app=raises`)
	lines, _ := s.log.snapshot()
	n := 0
	for _, line := range lines {
		if raised.MatchString(line) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the main chunk's error was logged %d times, want once", n)
	}

	// A reload of one plugin, a file and a folder one, among them all.
	if err := os.WriteFile(filepath.Join(dir, "f1234.lua"), []byte(textApp("f1234 v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d567", "name.lua"), []byte(`return "d567 v2"`), 0o644); err != nil {
		t.Fatal(err)
	}
	waitForBody(t, s, "/f1234", "f1234 v2")
	waitForBody(t, s, "/d567", "d567 v2")
	s.get(t, "/f1233").expect(t, "GET /f1233 after the reload of another plugin", 200, "f1233")
}

// waitForBody polls path until it answers 200 with want, within
// reloadTimeout.
func waitForBody(t *testing.T, s *server, path, want string) {
	t.Helper()
	deadline := time.Now().Add(reloadTimeout)
	var last *response
	for time.Now().Before(deadline) {
		if last = s.get(t, path); last.status == 200 && last.body == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GET %s never answered %q within %v; last %d %q", path, want, reloadTimeout, last.status, last.body)
}
