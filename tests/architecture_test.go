package tests

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestArchitecture holds the packages to the arrows of
// docs/ARCHITECTURE.md: what each production package may import of the
// project and of gopher-lua.
func TestArchitecture(t *testing.T) {
	const mod = "github.com/lsgi/lsgi/"
	const lua = "github.com/yuin/gopher-lua"
	// allowed lists, per package, the project's packages (and gopher-lua)
	// it may import; anything of the project not listed is an arrow that
	// must never exist.
	allowed := map[string][]string{
		"httpsyntax":           {},
		"devmode":              {},
		"dict":                 {},
		"appdb":                {},
		"outbound":             {},
		"sysmem":               {},
		"supervisor":           {"sysmem"},
		"luabridge/luapattern": {},
		"luabridge/appfs":      {},
		"environ":              {"httpsyntax"},
		"luabridge":            {"environ", "httpsyntax", "luabridge/luapattern", "luabridge/appfs", lua},
		"luabridge/lualib":     {"environ", "httpsyntax", "devmode", "dict", "appdb", "outbound", "luabridge", "luabridge/appfs", lua},
		"luabridge/wire":       {"luabridge", "luabridge/lualib", lua},
		"internal/coalesce":    {},
		"host":                 {"environ", "devmode", "luabridge", "luabridge/appfs", "luabridge/lualib", "luabridge/wire", "sysmem", "internal/coalesce"},
		"host/metrics":         {"host"},
		"transport":            {"host", "environ"},
		"transport/fast":       {"host", "environ", "httpsyntax", "internal/coalesce"},
		"lsgitest":             {"host", "transport"},
		"cmd/lsgi":             {"host", "host/metrics", "transport", "transport/fast", "supervisor", "devmode", "luabridge/lualib", "dict", "appdb", "outbound"},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		ok, checked := allowed[pkg]
		if !checked {
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			name := strings.TrimPrefix(imp, mod)
			isProject, isLua := name != imp, strings.HasPrefix(imp, lua)
			if isLua {
				name = lua
			}
			if (isProject || isLua) && !slices.Contains(ok, name) {
				t.Errorf("%s imports %s: an arrow docs/ARCHITECTURE.md forbids", pkg, imp)
			}
			if pkg == "host" && strings.HasPrefix(imp, "github.com/prometheus/") {
				t.Errorf("host imports %s: the request cycle must not depend on the Prometheus client (host/metrics does)", imp)
			}
		}
	}
	if seen != len(allowed) {
		t.Errorf("go list showed %d of the %d packages checked", seen, len(allowed))
	}
}
