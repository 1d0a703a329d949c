package luabridge

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The Lua 5.1 conformance cases (tests/lua51/cases/*.lua) are plain Lua
// scripts that print one fact per line. tests/lua51_test.go runs them
// through the lsgi binary; here each runs in-process, in a state opened as
// apps get it, with print captured, and under the reference interpreter,
// for quick checks of the engine and library fixes; the outputs must be
// equal (unless the case is marked "-- differs").

const casesDir = "../tests/lua51/cases"

// lua51 returns the path of the reference interpreter, or skips the test.
func lua51(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed: apt-get install lua5.1")
	}
	return path
}

// runReference runs a Lua file under lua5.1 in dir and returns its output.
func runReference(t *testing.T, interp, dir, file string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, interp, file)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lua5.1 %s: %v\n%s", file, err, stderr.String())
	}
	return stdout.String()
}

// runBridge runs Lua source in a state of a bridge Program, opened as an
// app's are (untrusted unless trust is set), and returns what it printed,
// print writing tostring of each value as Lua's does; an uncaught error
// is reported as a last line "error: ...".
func runBridge(t *testing.T, chunk string, src []byte, trust ...bool) string {
	t.Helper()
	prog, err := NewProgram("lua51", "app.lua", []byte("return function() end"), ProgramOptions{
		Trust: len(trust) > 0 && trust[0], Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := NewPool(context.Background(), prog, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Put(st)
	L := st.lstate
	var out strings.Builder
	tostring := L.GetGlobal("tostring")
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				out.WriteByte('\t')
			}
			L.Push(tostring)
			L.Push(L.Get(i))
			L.Call(1, 1)
			out.WriteString(lua.LVAsString(L.Get(-1)))
			L.Pop(1)
		}
		out.WriteByte('\n')
		return 0
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	proto, err := Compile(chunk, src)
	if err != nil {
		return out.String() + "error: " + err.Error() + "\n"
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := PCall(L, 0, 0, nil); err != nil {
		fmt.Fprintf(&out, "error: %s\n", errorValue(err))
	}
	return out.String()
}

// caseMarkers reads the "-- trust" and "-- differs: REASON" lines of a
// case's leading comment (tests/lua51/README.md).
func caseMarkers(src []byte) (trust bool, differs string) {
	for _, line := range strings.Split(string(src), "\n") {
		text, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
		if !ok {
			break
		}
		text = strings.TrimSpace(text)
		switch {
		case text == "trust":
			trust = true
		case strings.HasPrefix(text, "differs:"):
			differs = strings.TrimSpace(strings.TrimPrefix(text, "differs:"))
		}
	}
	return trust, differs
}

// diffLines describes the first lines where got and want differ.
func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 8; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  lua5.1: %q\n  bridge: %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

func TestLua51Cases(t *testing.T) {
	interp := lua51(t)
	files, err := filepath.Glob(filepath.Join(casesDir, "*.lua"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s (%v)", casesDir, err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".lua"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			trust, differs := caseMarkers(src)
			want := runReference(t, interp, casesDir, name)
			got := runBridge(t, name, src, trust)
			switch {
			case differs == "" && got != want:
				t.Errorf("%s differs from lua5.1:\n%s", name, diffLines(got, want))
			case differs != "" && got == want:
				t.Errorf("%s is marked \"differs: %s\" but matches lua5.1", name, differs)
			}
			if strings.TrimSpace(want) == "" {
				t.Errorf("%s prints nothing", name)
			}
		})
	}
}
