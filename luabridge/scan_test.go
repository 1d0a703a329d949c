package luabridge

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

func TestScanDepthLimits(t *testing.T) {
	lim := Limits{MaxNesting: 10, MaxExpressionDepth: 50}.WithDefaults()
	tests := []struct {
		desc  string
		src   string
		limit string // the Limits field refused, "" when accepted
		line  int
	}{
		{"flat statements", strings.Repeat("x = 1\n", 100), "", 0},
		{"nested blocks at the limit", strings.Repeat("do ", 10) + strings.Repeat("end ", 10), "", 0},
		{"nested blocks past the limit", strings.Repeat("do ", 11) + strings.Repeat("end ", 11), "MaxNesting", 1},
		{"unary operators", "return " + strings.Repeat("not ", 11) + "x", "MaxNesting", 1},
		{"minus as unary", "return " + strings.Repeat("- ", 11) + "1", "MaxNesting", 1},
		{"binary minus is no nesting", "return 1" + strings.Repeat(" - 1", 30), "", 0},
		{"brackets", "return " + strings.Repeat("(", 11) + "1" + strings.Repeat(")", 11), "MaxNesting", 1},
		{"tables", "\n\nreturn " + strings.Repeat("{", 11) + strings.Repeat("}", 11), "MaxNesting", 3},
		{"functions", strings.Repeat("return function() ", 11) + strings.Repeat("end ", 11), "MaxNesting", 1},
		{"a long chain", "return 1" + strings.Repeat(" + 1", 60), "MaxExpressionDepth", 1},
		{"a chain of calls", "return f" + strings.Repeat("()", 60), "MaxExpressionDepth", 1},
		{"a chain of fields", "return a" + strings.Repeat(".b", 60), "MaxExpressionDepth", 1},
		{"string calls", "return f" + strings.Repeat(` "s"`, 60), "MaxExpressionDepth", 1},
		{"elseif chain", "if a then" + strings.Repeat(" elseif a then", 60) + " end", "MaxExpressionDepth", 1},
		{"statements reset chains", strings.Repeat("f() ", 100), "", 0},
		{"arguments reset chains", "f(" + strings.Repeat("a + b, ", 40) + "c)", "", 0},
		{"nesting in a comment", "--[[" + strings.Repeat("(", 50) + "]]", "", 0},
		{"nesting in a long comment", "--[==[ ]] " + strings.Repeat("(", 50) + "]==]", "", 0},
		{"nesting after a line comment", "--[ not long\n" + strings.Repeat("(", 11), "MaxNesting", 2},
		{"nesting in a string", `x = "` + strings.Repeat("(", 50) + `"`, "", 0},
		{"escaped quote", `x = "\"` + strings.Repeat("(", 50) + `"`, "", 0},
		{"escaped line break", "x = '\\\n" + strings.Repeat("(", 50) + "'", "", 0},
		{"nesting in a long string", "x = [=[ ]] " + strings.Repeat("(", 50) + "]=]", "", 0},
		{"line of the limit", "x = 1\n\n" + strings.Repeat("(", 11), "MaxNesting", 3},
		{"an exponent takes the next byte", "x = 1e(" + strings.Repeat("(", 10), "", 0},
		{"repeat until", strings.Repeat("repeat ", 11) + strings.Repeat("until x ", 11), "MaxNesting", 1},
		{"while and for", strings.Repeat("while x do ", 5) + strings.Repeat("for i = 1, 2 do ", 5) + strings.Repeat("end ", 10), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := scanDepth([]byte(tt.src), lim)
			var lerr *SourceLimitError
			switch {
			case tt.limit == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.limit == "":
				return
			case !errors.As(err, &lerr):
				t.Fatalf("accepted, want %s refused", tt.limit)
			case lerr.Limit != tt.limit || lerr.Line != tt.line:
				t.Fatalf("refused by %s at line %d, want %s at line %d", lerr.Limit, lerr.Line, tt.limit, tt.line)
			}
		})
	}
}

func TestScanFindsLocalFunctions(t *testing.T) {
	src := `local a = 1
local function f() local g = function() end end
local --[[ comment ]] function h() end
local x, y = function() end, 2`
	got, err := scanDepth([]byte(src), Limits{}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, true, false, true, false}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestSourceLimitErrors(t *testing.T) {
	tests := []struct {
		desc string
		lim  Limits
		src  string
		want string
	}{
		{"size", Limits{MaxSourceBytes: 10}, "return 'more than ten bytes'", "app.lua: chunk too large: 28 bytes exceeds the source-bytes limit of 10 bytes (raise it with lsgi serve --limit source-bytes=N, or Limits.MaxSourceBytes in host.Config)"},
		{"nesting", Limits{MaxNesting: 3}, "\nreturn ((((1))))", "app.lua:2: chunk has too many syntax levels: nesting of blocks, brackets and unary operators exceeds the nesting limit of 3 (raise it with lsgi serve --limit nesting=N, or Limits.MaxNesting in host.Config)"},
		{"depth", Limits{MaxExpressionDepth: 10}, "return 1+1+1+1+1+1+1+1+1", "app.lua:1: expression too deep: the depth of operators, fields and calls exceeds the expression-depth limit of 10 (raise it with lsgi serve --limit expression-depth=N, or Limits.MaxExpressionDepth in host.Config)"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := compileChunk("app.lua", []byte(tt.src), tt.lim, true, false)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			if file, line, ok := ErrorPosition(err); tt.desc != "size" && (!ok || file != "app.lua" || line < 1) {
				t.Errorf("ErrorPosition = %q, %d, %v", file, line, ok)
			}
		})
	}
}

// treeDepth is the depth of a parsed chunk: one level per statement and
// expression node, as gopher-lua's compiler recurses.
func treeDepth(stmts []ast.Stmt) int {
	d := 0
	for _, s := range stmts {
		d = max(d, stmtDepth(s))
	}
	return d
}

func exprsDepth(es ...ast.Expr) int {
	d := 0
	for _, e := range es {
		d = max(d, exprDepth(e))
	}
	return d
}

func stmtDepth(s ast.Stmt) int {
	switch s := s.(type) {
	case *ast.AssignStmt:
		return 1 + max(exprsDepth(s.Lhs...), exprsDepth(s.Rhs...))
	case *ast.LocalAssignStmt:
		return 1 + exprsDepth(s.Exprs...)
	case *ast.FuncCallStmt:
		return 1 + exprDepth(s.Expr)
	case *ast.DoBlockStmt:
		return 1 + treeDepth(s.Stmts)
	case *ast.WhileStmt:
		return 1 + max(exprDepth(s.Condition), treeDepth(s.Stmts))
	case *ast.RepeatStmt:
		return 1 + max(exprDepth(s.Condition), treeDepth(s.Stmts))
	case *ast.IfStmt:
		return 1 + max(exprDepth(s.Condition), treeDepth(s.Then), treeDepth(s.Else))
	case *ast.NumberForStmt:
		return 1 + max(exprsDepth(s.Init, s.Limit, s.Step), treeDepth(s.Stmts))
	case *ast.GenericForStmt:
		return 1 + max(exprsDepth(s.Exprs...), treeDepth(s.Stmts))
	case *ast.FuncDefStmt:
		return 1 + max(exprsDepth(s.Name.Func, s.Name.Receiver), exprDepth(s.Func))
	case *ast.ReturnStmt:
		return 1 + exprsDepth(s.Exprs...)
	}
	return 1
}

func exprDepth(e ast.Expr) int {
	switch e := e.(type) {
	case nil:
		return 0
	case *ast.AttrGetExpr:
		return 1 + exprsDepth(e.Object, e.Key)
	case *ast.TableExpr:
		d := 0
		for _, f := range e.Fields {
			d = max(d, exprsDepth(f.Key, f.Value))
		}
		return 1 + d
	case *ast.FuncCallExpr:
		return 1 + max(exprsDepth(e.Func, e.Receiver), exprsDepth(e.Args...))
	case *ast.LogicalOpExpr:
		return 1 + exprsDepth(e.Lhs, e.Rhs)
	case *ast.RelationalOpExpr:
		return 1 + exprsDepth(e.Lhs, e.Rhs)
	case *ast.StringConcatOpExpr:
		return 1 + exprsDepth(e.Lhs, e.Rhs)
	case *ast.ArithmeticOpExpr:
		return 1 + exprsDepth(e.Lhs, e.Rhs)
	case *ast.UnaryMinusOpExpr:
		return 1 + exprDepth(e.Expr)
	case *ast.UnaryNotOpExpr:
		return 1 + exprDepth(e.Expr)
	case *ast.UnaryLenOpExpr:
		return 1 + exprDepth(e.Expr)
	case *ast.FunctionExpr:
		return 1 + treeDepth(e.Stmts)
	}
	return 1
}

// FuzzSourceDepth checks the depth scan against the parser: random source
// never crashes compiling, and what compiles is never deeper than the
// limit.
func FuzzSourceDepth(f *testing.F) {
	for _, seed := range []string{
		"return not not x",
		"local function f(a, ...) return a and {a.b:c(), [1] = -#a} or f(...) end",
		"if a then elseif b then else end while c do repeat until d end",
		"for i = 1, 2, 3 do for k, v in pairs(t) do end end",
		"x = [==[ (( ]==] .. '(\\'' .. \"\\\n\" --[[ ( ]] ",
		"return f'a'{b}[c](d).e:g()",
		"x = 1e(2)) y = 0x1p3 z = .5e-",
		"a, b.c, d[e] = 1, function() end, ...",
	} {
		f.Add([]byte(seed))
	}
	lim := Limits{MaxSourceBytes: 4096, MaxNesting: 12, MaxExpressionDepth: 48}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := compileChunk("fuzz.lua", src, lim, true, false); err != nil {
			return
		}
		body := src
		if len(body) > 0 && body[0] == '#' {
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				body = body[i:]
			} else {
				body = nil
			}
		}
		tree, err := parse.Parse(bytes.NewReader(body), "fuzz.lua")
		if err != nil {
			t.Fatalf("compiled, but does not parse: %v", err)
		}
		if d := treeDepth(tree); int64(d) > lim.MaxExpressionDepth {
			t.Fatalf("compiled a tree %d deep, limit %d:\n%s", d, lim.MaxExpressionDepth, src)
		}
	})
}
