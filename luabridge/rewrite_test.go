package luabridge

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// randomAssignments writes n blocks, each a multiple assignment of random
// shape over locals, upvalues, globals and table fields, followed by a
// print of every variable. Expressions read the targets, call functions
// that read and write them, and index tables with them.
func randomAssignments(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 1))
	targets := []string{"a", "b", "c", "t[i]", "t[a]", "t.x", "t[b]", "g", "u", "s.x", "t"}
	exprs := []string{"a", "b", "c", "a + b", "b - c", "t[i]", "t.x", "i", "f()", "h()", "g", "u",
		"(a)", "a .. ''", "t[a] or 0", "s.x", "-a", "#s", "k()", "1", "nil", "t[b] or 9"}
	var b strings.Builder
	b.WriteString(`local function show(...) local t = {...} for i = 1, select("#", ...) do t[i] = tostring(t[i]) end print(table.concat(t, " ")) end
local function get(t, k) if type(t) == "table" then return rawget(t, k) end end
`)
	for blk := 0; blk < n; blk++ {
		// Each block runs in a function of its own: a, b, c, i, t, s and
		// u are its locals, g a global.
		fmt.Fprintf(&b, "if not pcall(function() -- block %d\n", blk)
		b.WriteString("  local a, b, c, i = 1, 2, 3, 1\n  local t = {10, 20, 30, x = 5}\n  local s = {x = 7}\n  g = 4\n  local u = 6\n")
		b.WriteString("  local function f() a = a + 100; return a end\n  local function h() return b, c end\n")
		b.WriteString("  local function k() t = {1, 2, 3, x = 0}; return 0 end\n")
		nt, ne := 2+r.IntN(3), 1+r.IntN(4)
		lhs := make([]string, nt)
		for j := range lhs {
			lhs[j] = targets[r.IntN(len(targets))]
		}
		rhs := make([]string, ne)
		for j := range rhs {
			rhs[j] = exprs[r.IntN(len(exprs))]
		}
		assign := strings.Join(lhs, ", ") + " = " + strings.Join(rhs, ", ")
		if r.IntN(4) == 0 {
			// Through upvalues, from a nested function.
			fmt.Fprintf(&b, "  local function inner() %s end\n  inner()\n", assign)
		} else {
			fmt.Fprintf(&b, "  %s\n", assign)
		}
		fmt.Fprintf(&b, "  show(%d, a, b, c, i, g, u, type(t), get(t, 1), get(t, 2), get(t, 3), get(t, 'x'), get(t, 100), get(t, 101), get(t, 102), s.x)\n", blk)
		fmt.Fprintf(&b, "end) then show(%d, 'error') end\n", blk)
	}
	return b.String()
}

// TestMultipleAssignmentMatchesLua51 runs random multiple assignments
// under lua5.1 and in a bridge state and compares every variable after
// each.
func TestMultipleAssignmentMatchesLua51(t *testing.T) {
	interp := lua51(t)
	for seed := uint64(1); seed <= 4; seed++ {
		src := randomAssignments(seed, 150)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "assign.lua"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		want := runReference(t, interp, dir, "assign.lua")
		got := runBridge(t, "assign.lua", []byte(src))
		if got != want {
			t.Errorf("seed %d differs from lua5.1:\n%s", seed, diffLines(got, want))
		}
	}
}

func TestSafeMultipleAssignShapes(t *testing.T) {
	tests := []struct {
		desc string
		src  string
		safe bool
	}{
		{"constants to distinct names", "a, b = 1, 'x'", true},
		{"one call to distinct names", "a, b = f()", true},
		{"varargs to distinct names", "a, b = ...", true},
		{"parenthesized call is one value", "a, b = (f())", false},
		{"a name twice", "a, a = 1, 2", false},
		{"names read", "a, b = b, a", false},
		{"a field target", "t.x, b = 1, 2", false},
		{"a call after a value", "a, b = 1, f()", false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			tree, err := parse.Parse(strings.NewReader("local a, b, t; "+tt.src), "x")
			if err != nil {
				t.Fatal(err)
			}
			stmt := tree[1].(*ast.AssignStmt)
			if got := safeMultipleAssign(stmt); got != tt.safe {
				t.Errorf("safeMultipleAssign(%q) = %v, want %v", tt.src, got, tt.safe)
			}
		})
	}
}

// TestRewriteKeepsLines checks that errors raised in a rewritten
// assignment still name its line.
func TestRewriteKeepsLines(t *testing.T) {
	src := "local a, b = 1, 2\n\n\na, b = b, nil + a\n"
	proto, err := Compile("lines.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.Push(L.NewFunctionFromProto(proto))
	err = L.PCall(0, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "lines.lua:4:") {
		t.Fatalf("error %v does not name line 4", err)
	}
}
