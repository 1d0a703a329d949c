package host

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkManyPlugins serves one-line plugins in process from a host with
// N of them: /one asks one plugin every time, /all each plugin in turn, so
// that every request finds a different Lua state (tests/load/scale.sh
// measures the same over HTTP). Every plugin has answered once before the
// clock starts.
func BenchmarkManyPlugins(b *testing.B) {
	for _, n := range []int{1, 1000, 10000} {
		dir := b.TempDir()
		for i := range n {
			src := fmt.Sprintf(`return function(e, sr) sr("200 OK", {{"Content-Type", "text/plain"}}) return {"p%d"} end`, i)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.lua", i)), []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		h, err := New(Config{Plugins: []PluginSource{Folder{Path: dir}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		paths := make([]string, n)
		for i := range paths {
			paths[i] = fmt.Sprintf("/p%d", i)
		}
		run := func(b *testing.B, path func(i int) string) {
			// Every plugin used once first: this is the steady state, not
			// the opening of the first states.
			for _, p := range paths {
				if rec := get(h, "GET", p); rec.Code != 200 {
					b.Fatalf("GET %s: %d", p, rec.Code)
				}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path(i), nil))
				if rec.Code != 200 {
					b.Fatalf("GET %s: %d", path(i), rec.Code)
				}
			}
		}
		b.Run(fmt.Sprintf("n=%d/one", n), func(b *testing.B) { run(b, func(int) string { return paths[0] }) })
		b.Run(fmt.Sprintf("n=%d/all", n), func(b *testing.B) { run(b, func(i int) string { return paths[i%n] }) })
		h.Close()
	}
}
