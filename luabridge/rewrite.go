package luabridge

// This file rewrites a parsed chunk before gopher-lua compiles it, where
// its compiler gets Lua 5.1 wrong (compile.go in gopher-lua v1.1.2):
//
//   - Multiple assignment (yuin/gopher-lua#440). compileAssignStmt
//     evaluates the right side straight into the registers of local
//     targets, one expression after the other, so `a, b = b, a` reads a
//     after it was overwritten; a table target whose object is a local
//     assigned in the same statement is indexed after the change; a call
//     on the right sees locals already assigned. Lua 5.1 evaluates every
//     expression first (the tables and keys of the targets, then the
//     values, left to right) and assigns afterwards, right to left. The
//     rewrite spells exactly that out through fresh locals:
//
//         a, t[i] = x, y  =>  do local (1), (2), (3) = t, x, y
//                                (1)[i] = (3); a = (2) end
//
//     A target's table and key are copied only where Lua 5.1 evaluates
//     them early (anything but a local of the running function, or a
//     local the statement assigns later: lparser.c check_conflict).
//   - Table constructors with more list items than gopher-lua can place
//     (SETLIST numbers its batches of 50 in 9 bits: from item 25551 on,
//     items land on earlier ones or run as code) are refused with an
//     error rather than compiled wrong.
//   - `local f = function() ... f ... end`. compileLocalAssignStmt
//     declares f before compiling the function, as for `local function
//     f`, so the inner f is the new local instead of the outer variable.
//     The parser gives both forms the same tree; the source scan tells
//     them apart, and the rewrite gives the plain form a second, discarded
//     value (nil) so that the compiler takes its ordinary path.
//
// The rewrite runs once per compile; the code it produces costs a few
// register moves per multiple assignment.

import (
	"errors"
	"fmt"
	"strconv"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// maxListItems is the most list items gopher-lua's compiler places right
// in one table constructor: 511 batches (a 9-bit operand) of 50.
var maxListItems = 511 * lua.FieldsPerFlush

// rewriter walks a chunk, keeping track of which names are locals of the
// function being walked.
type rewriter struct {
	scope *funcScope
	err   error // the first construct that cannot be compiled right

	// localFunction tells, for each LocalAssignStmt in source order,
	// whether it is `local function`; nil when the scan's count does not
	// match the tree's, in which case that fix is left out.
	localFunction []bool
	nextLocal     int
}

// funcScope is the lexical scope of one function: its blocks, innermost
// last, each with the locals declared so far.
type funcScope struct {
	parent *funcScope
	blocks [][]string
}

func (f *funcScope) declare(names ...string) {
	f.blocks[len(f.blocks)-1] = append(f.blocks[len(f.blocks)-1], names...)
}

func (f *funcScope) isLocal(name string) bool {
	for i := len(f.blocks) - 1; i >= 0; i-- {
		for _, n := range f.blocks[i] {
			if n == name {
				return true
			}
		}
	}
	return false
}

// rewriteChunk rewrites a parsed main chunk in place and returns it.
// localFunction is the source scan's answer for each `local` keyword. The
// error reports a construct gopher-lua would compile wrong, with no
// rewrite to help.
func rewriteChunk(name string, chunk []ast.Stmt, localFunction []bool) ([]ast.Stmt, error) {
	r := &rewriter{}
	if countLocals(chunk) == len(localFunction) {
		r.localFunction = localFunction
	}
	// The main chunk is a vararg function with no parameters.
	r.scope = &funcScope{blocks: [][]string{nil}}
	chunk = r.block(chunk)
	if r.err != nil {
		var serr *SyntaxError
		if errors.As(r.err, &serr) {
			serr.File = name
		}
		return nil, r.err
	}
	return chunk, nil
}

// block rewrites a statement list in a new block scope.
func (r *rewriter) block(stmts []ast.Stmt) []ast.Stmt {
	r.scope.blocks = append(r.scope.blocks, nil)
	defer func() { r.scope.blocks = r.scope.blocks[:len(r.scope.blocks)-1] }()
	return r.stmts(stmts)
}

// stmts rewrites statements in the current block.
func (r *rewriter) stmts(stmts []ast.Stmt) []ast.Stmt {
	for i, s := range stmts {
		stmts[i] = r.stmt(s)
	}
	return stmts
}

func (r *rewriter) stmt(s ast.Stmt) ast.Stmt {
	switch s := s.(type) {
	case *ast.AssignStmt:
		r.exprs(s.Lhs)
		r.exprs(s.Rhs)
		if len(s.Lhs) > 1 && !safeMultipleAssign(s) {
			return r.multipleAssign(s)
		}
	case *ast.LocalAssignStmt:
		r.localAssign(s)
	case *ast.FuncCallStmt:
		r.expr(s.Expr)
	case *ast.DoBlockStmt:
		s.Stmts = r.block(s.Stmts)
	case *ast.WhileStmt:
		r.expr(s.Condition)
		s.Stmts = r.block(s.Stmts)
	case *ast.RepeatStmt:
		// The condition sees the body's locals.
		r.scope.blocks = append(r.scope.blocks, nil)
		s.Stmts = r.stmts(s.Stmts)
		r.expr(s.Condition)
		r.scope.blocks = r.scope.blocks[:len(r.scope.blocks)-1]
	case *ast.IfStmt:
		r.expr(s.Condition)
		s.Then = r.block(s.Then)
		s.Else = r.block(s.Else)
	case *ast.NumberForStmt:
		r.expr(s.Init)
		r.expr(s.Limit)
		r.expr(s.Step)
		r.scope.blocks = append(r.scope.blocks, []string{s.Name})
		s.Stmts = r.stmts(s.Stmts)
		r.scope.blocks = r.scope.blocks[:len(r.scope.blocks)-1]
	case *ast.GenericForStmt:
		r.exprs(s.Exprs)
		r.scope.blocks = append(r.scope.blocks, append([]string(nil), s.Names...))
		s.Stmts = r.stmts(s.Stmts)
		r.scope.blocks = r.scope.blocks[:len(r.scope.blocks)-1]
	case *ast.FuncDefStmt:
		if s.Name.Func != nil {
			r.expr(s.Name.Func)
		}
		if s.Name.Receiver != nil {
			r.expr(s.Name.Receiver)
		}
		r.function(s.Func, s.Name.Method != "")
	case *ast.ReturnStmt:
		r.exprs(s.Exprs)
	}
	return s
}

// localAssign walks `local names = exprs` and declares the names: before
// the values for `local function f`, after them otherwise, as Lua 5.1
// scopes them.
func (r *rewriter) localAssign(s *ast.LocalAssignStmt) {
	isLocalFunction := true // gopher-lua's own reading, when unsure
	if r.localFunction != nil {
		isLocalFunction = r.localFunction[r.nextLocal]
	}
	r.nextLocal++
	if _, ok := singleFunction(s); ok {
		if isLocalFunction {
			r.scope.declare(s.Names[0])
			r.exprs(s.Exprs)
			return
		}
		if r.localFunction != nil {
			nilExpr := &ast.NilExpr{}
			nilExpr.SetLine(s.Line())
			nilExpr.SetLastLine(s.LastLine())
			s.Exprs = append(s.Exprs, nilExpr)
		}
	}
	r.exprs(s.Exprs)
	r.scope.declare(s.Names...)
}

// singleFunction reports whether s is the shape gopher-lua compiles as
// `local function`: one name, one function expression.
func singleFunction(s *ast.LocalAssignStmt) (*ast.FunctionExpr, bool) {
	if len(s.Names) != 1 || len(s.Exprs) != 1 {
		return nil, false
	}
	f, ok := s.Exprs[0].(*ast.FunctionExpr)
	return f, ok
}

// function walks a function body in a new function scope.
func (r *rewriter) function(f *ast.FunctionExpr, method bool) {
	scope := &funcScope{parent: r.scope, blocks: [][]string{nil}}
	if method {
		scope.declare("self")
	}
	scope.declare(f.ParList.Names...)
	if f.ParList.HasVargs && lua.CompatVarArg {
		scope.declare("arg") // Lua 5.1's LUA_COMPAT_VARARG, as gopher-lua
	}
	r.scope = scope
	f.Stmts = r.stmts(f.Stmts)
	r.scope = scope.parent
}

func (r *rewriter) exprs(es []ast.Expr) {
	for _, e := range es {
		r.expr(e)
	}
}

// expr walks an expression for the function bodies inside it.
func (r *rewriter) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		r.expr(e.Object)
		r.expr(e.Key)
	case *ast.TableExpr:
		items := 0
		for _, f := range e.Fields {
			if f.Key != nil {
				r.expr(f.Key)
			} else {
				items++
			}
			r.expr(f.Value)
		}
		if items > maxListItems && r.err == nil {
			r.err = &SyntaxError{Line: e.Line(), Message: fmt.Sprintf(
				"table constructor with %d list items: gopher-lua places at most %d right; build the table in parts", items, maxListItems)}
		}
	case *ast.FuncCallExpr:
		if e.Func != nil {
			r.expr(e.Func)
		}
		if e.Receiver != nil {
			r.expr(e.Receiver)
		}
		r.exprs(e.Args)
	case *ast.LogicalOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.RelationalOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.StringConcatOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		r.expr(e.Expr)
	case *ast.UnaryNotOpExpr:
		r.expr(e.Expr)
	case *ast.UnaryLenOpExpr:
		r.expr(e.Expr)
	case *ast.FunctionExpr:
		r.function(e, false)
	}
}

// safeMultipleAssign reports the multiple assignments gopher-lua compiles
// right: distinct names assigned constants (nothing is read), or assigned
// the results of one call or `...` (evaluated into fresh registers first).
func safeMultipleAssign(s *ast.AssignStmt) bool {
	seen := make(map[string]bool, len(s.Lhs))
	for _, lhs := range s.Lhs {
		id, ok := lhs.(*ast.IdentExpr)
		if !ok || seen[id.Value] {
			return false
		}
		seen[id.Value] = true
	}
	if len(s.Rhs) == 1 {
		switch e := s.Rhs[0].(type) {
		case *ast.FuncCallExpr:
			return !e.AdjustRet
		case *ast.Comma3Expr:
			return !e.AdjustRet
		}
	}
	for _, rhs := range s.Rhs {
		if !isConstant(rhs) {
			return false
		}
	}
	return true
}

func isConstant(e ast.Expr) bool {
	switch e.(type) {
	case *ast.NilExpr, *ast.TrueExpr, *ast.FalseExpr, *ast.NumberExpr, *ast.StringExpr:
		return true
	}
	return false
}

// multipleAssign turns a multiple assignment into a block that evaluates
// everything into fresh locals, then assigns right to left.
func (r *rewriter) multipleAssign(s *ast.AssignStmt) ast.Stmt {
	local := &ast.LocalAssignStmt{}
	local.SetLine(s.Line())
	local.SetLastLine(s.LastLine())
	temp := func(e ast.Expr) *ast.IdentExpr {
		name := "(assign " + strconv.Itoa(len(local.Names)+1) + ")"
		local.Names = append(local.Names, name)
		local.Exprs = append(local.Exprs, e)
		return identAt(name, e)
	}

	targets := make([]ast.Expr, len(s.Lhs))
	for i, lhs := range s.Lhs {
		index, ok := lhs.(*ast.AttrGetExpr)
		if !ok {
			targets[i] = lhs
			continue
		}
		target := &ast.AttrGetExpr{Object: index.Object, Key: index.Key}
		target.SetLine(index.Line())
		target.SetLastLine(index.LastLine())
		if r.evaluatedEarly(index.Object, s.Lhs[i+1:]) {
			target.Object = temp(index.Object)
		}
		if r.evaluatedEarly(index.Key, s.Lhs[i+1:]) {
			target.Key = temp(index.Key)
		}
		targets[i] = target
	}

	values := make([]*ast.IdentExpr, len(s.Lhs))
	for i := range s.Lhs {
		name := "(assign " + strconv.Itoa(len(local.Names)+1) + ")"
		local.Names = append(local.Names, name)
		values[i] = identAt(name, s.Lhs[i])
	}
	local.Exprs = append(local.Exprs, s.Rhs...)

	block := &ast.DoBlockStmt{Stmts: []ast.Stmt{local}}
	block.SetLine(s.Line())
	block.SetLastLine(s.LastLine())
	for i := len(targets) - 1; i >= 0; i-- {
		assign := &ast.AssignStmt{Lhs: []ast.Expr{targets[i]}, Rhs: []ast.Expr{values[i]}}
		assign.SetLine(s.Lhs[i].Line())
		assign.SetLastLine(s.Lhs[i].LastLine())
		block.Stmts = append(block.Stmts, assign)
	}
	return block
}

// evaluatedEarly reports whether Lua 5.1 evaluates a target's table or key
// before the right side: everything but constants and locals of the
// running function, except a local that a later target assigns (which
// Lua copies first).
func (r *rewriter) evaluatedEarly(e ast.Expr, later []ast.Expr) bool {
	switch e := e.(type) {
	case *ast.NilExpr, *ast.TrueExpr, *ast.FalseExpr, *ast.NumberExpr, *ast.StringExpr:
		return false
	case *ast.IdentExpr:
		if !r.scope.isLocal(e.Value) {
			return true
		}
		for _, t := range later {
			if id, ok := t.(*ast.IdentExpr); ok && id.Value == e.Value {
				return true
			}
		}
		return false
	}
	return true
}

// identAt returns a reference to name carrying at's lines.
func identAt(name string, at ast.Expr) *ast.IdentExpr {
	id := &ast.IdentExpr{Value: name}
	id.SetLine(at.Line())
	id.SetLastLine(at.LastLine())
	return id
}

// countLocals counts the LocalAssignStmts of a chunk, nested functions
// included.
func countLocals(stmts []ast.Stmt) int {
	n := 0
	for _, s := range stmts {
		if _, ok := s.(*ast.LocalAssignStmt); ok {
			n++
		}
		exprs, blocks := stmtParts(s)
		for _, e := range exprs {
			n += countLocalsIn(e)
		}
		for _, b := range blocks {
			n += countLocals(b)
		}
	}
	return n
}

// countLocalsIn counts the LocalAssignStmts in the functions inside e.
func countLocalsIn(e ast.Expr) int {
	exprs, body := exprParts(e)
	n := countLocals(body)
	for _, sub := range exprs {
		n += countLocalsIn(sub)
	}
	return n
}

// stmtParts returns a statement's expressions and blocks.
func stmtParts(s ast.Stmt) ([]ast.Expr, [][]ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		return append(append([]ast.Expr(nil), s.Lhs...), s.Rhs...), nil
	case *ast.LocalAssignStmt:
		return s.Exprs, nil
	case *ast.FuncCallStmt:
		return []ast.Expr{s.Expr}, nil
	case *ast.DoBlockStmt:
		return nil, [][]ast.Stmt{s.Stmts}
	case *ast.WhileStmt:
		return []ast.Expr{s.Condition}, [][]ast.Stmt{s.Stmts}
	case *ast.RepeatStmt:
		return []ast.Expr{s.Condition}, [][]ast.Stmt{s.Stmts}
	case *ast.IfStmt:
		return []ast.Expr{s.Condition}, [][]ast.Stmt{s.Then, s.Else}
	case *ast.NumberForStmt:
		return []ast.Expr{s.Init, s.Limit, s.Step}, [][]ast.Stmt{s.Stmts}
	case *ast.GenericForStmt:
		return s.Exprs, [][]ast.Stmt{s.Stmts}
	case *ast.FuncDefStmt:
		return []ast.Expr{s.Func}, nil
	case *ast.ReturnStmt:
		return s.Exprs, nil
	}
	return nil, nil
}

// exprParts returns an expression's sub-expressions and, for a function,
// its body.
func exprParts(e ast.Expr) ([]ast.Expr, []ast.Stmt) {
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		return []ast.Expr{e.Object, e.Key}, nil
	case *ast.TableExpr:
		var parts []ast.Expr
		for _, f := range e.Fields {
			parts = append(parts, f.Key, f.Value)
		}
		return parts, nil
	case *ast.FuncCallExpr:
		return append([]ast.Expr{e.Func, e.Receiver}, e.Args...), nil
	case *ast.LogicalOpExpr:
		return []ast.Expr{e.Lhs, e.Rhs}, nil
	case *ast.RelationalOpExpr:
		return []ast.Expr{e.Lhs, e.Rhs}, nil
	case *ast.StringConcatOpExpr:
		return []ast.Expr{e.Lhs, e.Rhs}, nil
	case *ast.ArithmeticOpExpr:
		return []ast.Expr{e.Lhs, e.Rhs}, nil
	case *ast.UnaryMinusOpExpr:
		return []ast.Expr{e.Expr}, nil
	case *ast.UnaryNotOpExpr:
		return []ast.Expr{e.Expr}, nil
	case *ast.UnaryLenOpExpr:
		return []ast.Expr{e.Expr}, nil
	case *ast.FunctionExpr:
		return nil, e.Stmts
	}
	return nil, nil
}
