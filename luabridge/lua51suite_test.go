package luabridge

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua ships its copy of the official Lua 5.1 test scripts (with the
// parts it cannot run commented out). They run here, read from the module
// cache, through the bridge's library setup (trusted: files.lua needs io,
// db.lua debug) and its compiler, so that the engine fixes are checked
// against them. Each script either passes, or fails where this table says
// (one of the positions listed, separated by "|")
// and for the reason it gives; a script that starts to pass makes the test
// fail, so that the table (and docs/modules/README.md) follow.
var gopherSuite = []struct {
	file string
	// skip, if set, is why the script does not apply here.
	skip string
	// edits turn off single assertions that test what does not apply.
	edits []suiteEdit
	// fails, if set, is the start of the error the script stops with, and
	// why is the reason.
	fails, why string
	lim        Limits
}{
	{file: "api.lua"},
	{file: "attrib.lua"},
	{file: "calls.lua"},
	{file: "checktable.lua"},
	{file: "closure.lua"},
	{file: "code.lua"},
	{file: "constructs.lua"},
	{file: "db.lua", fails: "db.lua:19:", why: "gopher-lua has no debug.sethook (line hooks)"},
	{file: "errors.lua", fails: "errors.lua:39:", why: "gopher-lua's parser accepts \";\" as an empty statement (Lua 5.2 syntax)"},
	{file: "events.lua"},
	{file: "files.lua"},
	{file: "literals.lua"},
	{file: "locals.lua"},
	{file: "math.lua", skip: official},
	{file: "nextvar.lua", skip: official},
	{file: "pm.lua"},
	{file: "sort.lua", skip: official},
	{file: "strings.lua", skip: official},
	{file: "vararg.lua"},
	{file: "verybig.lua", lim: Limits{MaxSourceBytes: 8 << 20}, fails: "table constructor with 100000 list items", why: "a table constructor with 100,000 items, more than gopher-lua compiles right"},
	{file: "gc.lua", fails: "gc.lua:107:|gc.lua:111:", why: "garbage collection is Go's: collectgarbage(\"step\") ends a cycle at once (so that `repeat until collectgarbage(\"step\")` cannot spin) and gcinfo may not drop, where Lua 5.1 takes several steps"},
	{file: "big.lua", skip: "concatenates 2^25-byte strings 129 times: a memory bomb the host's limits refuse"},
	{file: "main.lua", skip: "runs the lua command"},
	{file: "all.lua", skip: "runs the others"},
}

// official is why the standard-library scripts are not run here:
// tests/lua51_test.go (TestLua51OfficialSuite) compares them with lua5.1
// through the lsgi binary.
const official = "compared with lua5.1 through the lsgi binary by tests/lua51_test.go"

// suiteEdit replaces one line of a script, for a reason.
type suiteEdit struct{ line, why string }

// gopherSuiteDir returns the folder of gopher-lua's copy of the Lua 5.1
// tests in the module cache.
func gopherSuiteDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yuin/gopher-lua").Output()
	if err != nil {
		t.Skipf("cannot find gopher-lua's module folder: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "_lua5.1-tests")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("gopher-lua's Lua 5.1 tests are not in the module cache: %v", err)
	}
	return dir
}

// runSuiteScript runs one script through the bridge and returns its error.
func runSuiteScript(t *testing.T, name string, src []byte, lim Limits) error {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 1024, RegistrySize: 1024 * 20})
	defer L.Close()
	if err := OpenLibsWith(L, LibOptions{Trust: true, Limits: lim}); err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	L.SetContext(ctx)
	proto, err := compileChunk(name, src, lim, true, false)
	if err != nil {
		return err
	}
	L.Push(L.NewFunctionFromProto(proto))
	return PCall(L, 0, 0, nil)
}

func TestGopherLua51Suite(t *testing.T) {
	if testing.Short() {
		t.Skip("the Lua 5.1 suite takes a while")
	}
	dir := gopherSuiteDir(t)
	t.Chdir(dir) // the scripts open their helpers by relative path
	for _, tt := range gopherSuite {
		t.Run(strings.TrimSuffix(tt.file, ".lua"), func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			src, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(src)
			for _, e := range tt.edits {
				if !strings.Contains(text, e.line) {
					t.Fatalf("%s no longer has %q", tt.file, e.line)
				}
				text = strings.Replace(text, e.line, "-- not applicable: "+e.why, 1)
			}
			err = runSuiteScript(t, tt.file, []byte(text), tt.lim)
			switch {
			case tt.fails == "" && err != nil:
				t.Fatalf("%s: %v", tt.file, err)
			case tt.fails != "" && err == nil:
				t.Fatalf("%s now passes (it failed because %s): update the table and docs/modules/README.md", tt.file, tt.why)
			case tt.fails != "" && !containsAny(errorText(err), strings.Split(tt.fails, "|")):
				t.Fatalf("%s fails with %v, expected %q (%s)", tt.file, err, tt.fails, tt.why)
			}
		})
	}
}

// errorText is an error's message without its traceback.
func errorText(err error) string {
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
