package tests

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Lua 5.1 conformance suite runs each script of lua51/cases twice and
// compares what it prints, line by line: once under lua5.1, the reference
// interpreter, and once inside an LSGI app through the real binary (`lsgi
// call lua51/app.lua /CASE.lua`, one process and so one fresh Lua state
// per case), with the standard library every app sees. Both sides run the
// case through the same harness (lua51/harness.lua), which replaces print
// to collect its lines.
//
// A case whose first lines carry "-- differs: REASON" shows a difference
// that docs/modules/README.md documents: its output must still differ
// (so that a fixed difference loses its marker). "-- trust" runs a case
// under --trust.

// lua51Case is one script and how to run it.
type lua51Case struct {
	name    string // file name
	path    string // where it is read from
	trust   bool
	differs string // the documented reason, "" when the outputs must match
}

// caseHeader reads the "-- trust" and "-- differs:" markers of a case's
// leading comment lines.
func caseHeader(t *testing.T, path string) (trust bool, differs string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "--") {
			break
		}
		switch text := strings.TrimSpace(strings.TrimPrefix(line, "--")); {
		case text == "trust":
			trust = true
		case strings.HasPrefix(text, "differs:"):
			differs = strings.TrimSpace(strings.TrimPrefix(text, "differs:"))
		}
	}
	return trust, differs
}

// lua51Dir prepares a folder holding the harness and the case.
func lua51Dir(t *testing.T, c lua51Case) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"harness.lua", "app.lua", "ref.lua"} {
		copyFile(t, filepath.Join("lua51", name), filepath.Join(dir, name))
	}
	copyFile(t, c.path, filepath.Join(dir, c.name))
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runReference runs a case under lua5.1.
func runReference(t *testing.T, lua51, dir string, c lua51Case) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, lua51, "ref.lua", c.name)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lua5.1 %s: %v\n%s", c.name, err, stderr.String())
	}
	return string(out)
}

// runLSGI runs a case inside an LSGI app with lsgi call and returns the
// response body.
func runLSGI(t *testing.T, dir string, c lua51Case) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"call"}
	if c.trust {
		args = append(args, "--trust")
	}
	args = append(args, "app.lua", "/"+c.name)
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lsgi call %s: %v\n%s", c.name, err, stderr.String())
	}
	head, body, ok := strings.Cut(string(out), "\n\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Fatalf("lsgi call %s: unexpected response:\n%s\nlog:\n%s", c.name, out, stderr.String())
	}
	return body
}

// compareOutputs reports the first lines where the two outputs differ.
func compareOutputs(want, got string) []string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var diffs []string
	for i := 0; i < max(len(w), len(g)) && len(diffs) < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			diffs = append(diffs, "line "+strconv.Itoa(i+1)+":\n\tlua5.1: "+wl+"\n\tlsgi:   "+gl)
		}
	}
	return diffs
}

func lookLua51(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed: apt-get install lua5.1")
	}
	return p
}

func TestLua51Conformance(t *testing.T) {
	lua51 := lookLua51(t)
	paths, err := filepath.Glob(filepath.Join("lua51", "cases", "*.lua"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases in lua51/cases: %v", err)
	}
	for _, path := range paths {
		c := lua51Case{name: filepath.Base(path), path: path}
		c.trust, c.differs = caseHeader(t, path)
		t.Run(strings.TrimSuffix(c.name, ".lua"), func(t *testing.T) {
			t.Parallel()
			dir := lua51Dir(t, c)
			want := runReference(t, lua51, dir, c)
			got := runLSGI(t, dir, c)
			diffs := compareOutputs(want, got)
			switch {
			case c.differs == "" && len(diffs) > 0:
				t.Errorf("%s differs from lua5.1:\n%s", c.name, strings.Join(diffs, "\n"))
			case c.differs != "" && len(diffs) == 0:
				t.Errorf("%s is marked \"differs: %s\" but matches lua5.1 now: remove the marker (and the note in docs)", c.name, c.differs)
			case c.differs != "":
				t.Logf("documented difference (%s):\n%s", c.differs, strings.Join(diffs, "\n"))
			}
		})
	}
}

// officialTests are the scripts of gopher-lua's copy of the official Lua
// 5.1 test suite that exercise the standard library, with the reason each
// one that does not pass under LSGI fails (documented in
// docs/modules/README.md).
var officialTests = []struct {
	name  string
	fails string // "" when the script must pass
}{
	{"strings.lua", ""},
	{"sort.lua", ""},
	{"math.lua", ""},
	{"nextvar.lua", "a numeric for loop with string bounds (for i = \"10\", \"1\", \"-2\") raises in gopher-lua's VM"},
}

// timings masks what sort.lua prints that changes from run to run: its
// timings, and the number of comparisons a sort of random numbers made.
var timings = regexp.MustCompile(`\d+\.\d+ sec|\d+ comparisons`)

// TestLua51OfficialSuite runs the official scripts through `lsgi serve
// --trust` (one folder app, one Lua state) rather than lsgi call: they are
// long, and the server's --timeout can be raised for them.
func TestLua51OfficialSuite(t *testing.T) {
	lua51 := lookLua51(t)
	out, err := exec.Command(goTool(), "list", "-m", "-f", "{{.Dir}}", "github.com/yuin/gopher-lua").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("gopher-lua's module folder not found (go list -m: %v)", err)
	}
	suite := filepath.Join(dir, "_lua5.1-tests")
	files := map[string]string{}
	for _, name := range []string{"harness.lua", "app.lua"} {
		files["official/"+strings.Replace(name, "app.lua", "init.lua", 1)] = readText(t, filepath.Join("lua51", name))
	}
	for _, ot := range officialTests {
		files["official/"+ot.name] = readText(t, filepath.Join(suite, ot.name))
	}
	s := startServerFiles(t, "", files, "--trust", "--states", "1", "--timeout", "10m")
	client := &http.Client{Timeout: 10 * time.Minute}
	for _, ot := range officialTests {
		t.Run(strings.TrimSuffix(ot.name, ".lua"), func(t *testing.T) {
			c := lua51Case{name: ot.name, path: filepath.Join(suite, ot.name), trust: true}
			want := timings.ReplaceAllString(runReference(t, lua51, lua51Dir(t, c), c), "N")
			resp, err := client.Get(s.base + "/official/" + ot.name)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /official/%s: %d %s (%v)", ot.name, resp.StatusCode, body, err)
			}
			// Error messages name the file by its path in the plugins folder.
			got := strings.ReplaceAll(string(body), filepath.Join(s.dir, "official")+string(filepath.Separator), "")
			got = timings.ReplaceAllString(got, "N")
			diffs := compareOutputs(want, got)
			switch {
			case ot.fails == "" && len(diffs) > 0:
				t.Errorf("%s does not pass under LSGI as under lua5.1:\n%s", ot.name, strings.Join(diffs, "\n"))
			case ot.fails != "" && len(diffs) == 0:
				t.Errorf("%s passes now: remove its reason (%s)", ot.name, ot.fails)
			case ot.fails != "":
				t.Logf("%s fails as documented (%s):\n%s", ot.name, ot.fails, strings.Join(diffs, "\n"))
			default:
				t.Logf("%s passes", ot.name)
			}
		})
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
