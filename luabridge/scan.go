package luabridge

// This file bounds a chunk's nesting before gopher-lua parses it. The
// parser and compiler recurse once per level of the syntax tree with no
// limit of their own, so deep source overflows the Go stack (a fatal error
// no recover catches) or compiles in quadratic time. One linear pass over
// the tokens, with no recursion, measures two depths:
//
//   - nesting: blocks, brackets and pending unary operators, about what
//     Lua 5.1 counts against its limit of 200 (LUAI_MAXCCALLS);
//   - expression depth: an upper bound on the depth of the syntax tree,
//     which also counts every operator, field access and call chained in
//     one expression (gopher-lua nests `a + b + c` where Lua 5.1 loops).
//
// The tokenizer follows gopher-lua's lexer (parse/lexer.go) wherever it
// differs from Lua 5.1's, so that no text it parses as code is skipped
// here as a comment or string.

import (
	"strconv"
)

// SourceLimitError reports a chunk refused by one of [Limits] before it
// was compiled.
type SourceLimitError struct {
	File  string // the chunk's name
	Line  int    // 1-based line where the limit was passed; 0 for the size
	Limit string // the Limits field, e.g. "MaxNesting"
	Value int64  // the limit's value
	Got   int64  // the size or depth found (more than Value)
}

func (e *SourceLimitError) Error() string {
	where := e.File + ":"
	if e.Line > 0 {
		where += strconv.Itoa(e.Line) + ":"
	}
	switch e.Limit {
	case "MaxSourceBytes":
		return where + " chunk too large: " + LimitError("source-bytes", e.Value, strconv.FormatInt(e.Got, 10)+" bytes")
	case "MaxNesting":
		return where + " chunk has too many syntax levels: " + LimitError("nesting", e.Value, "nesting of blocks, brackets and unary operators")
	default:
		return where + " expression too deep: " + LimitError("expression-depth", e.Value, "the depth of operators, fields and calls")
	}
}

// Token classes the depth pass tells apart.
const (
	tkEOF = iota
	tkName
	tkOperand   // number, string, nil, true, false, ...
	tkString    // a string literal: also a call suffix after an expression
	tkOpen      // ( [ {
	tkClose     // ) ] }
	tkBinary    // binary operators, . and :
	tkMinus     // - (unary or binary)
	tkUnary     // not, #
	tkSeparator // = , ; ::
	tkKeyword   // any other keyword
	tkInvalid   // a byte gopher-lua's lexer rejects
)

// Keywords that change the nesting.
const (
	kwNone = iota
	kwFunction
	kwDo
	kwWhile
	kwFor
	kwIf
	kwRepeat
	kwThen
	kwElse
	kwElseif
	kwEnd
	kwUntil
	kwLocal
	kwStatement // return, break, goto, in: start a new segment
)

var keywords = map[string]struct {
	class, kw int
}{
	"and": {tkBinary, kwNone}, "or": {tkBinary, kwNone}, "not": {tkUnary, kwNone},
	"nil": {tkOperand, kwNone}, "true": {tkOperand, kwNone}, "false": {tkOperand, kwNone},
	"function": {tkKeyword, kwFunction}, "do": {tkKeyword, kwDo}, "while": {tkKeyword, kwWhile},
	"for": {tkKeyword, kwFor}, "if": {tkKeyword, kwIf}, "repeat": {tkKeyword, kwRepeat},
	"then": {tkKeyword, kwThen}, "else": {tkKeyword, kwElse}, "elseif": {tkKeyword, kwElseif},
	"end": {tkKeyword, kwEnd}, "until": {tkKeyword, kwUntil}, "local": {tkKeyword, kwLocal},
	"return": {tkKeyword, kwStatement}, "break": {tkKeyword, kwStatement},
	"goto": {tkKeyword, kwStatement}, "in": {tkKeyword, kwStatement},
}

// lexer splits Lua source into the token classes above.
type lexer struct {
	src  []byte
	pos  int
	line int
}

func (lx *lexer) peek(off int) int {
	if lx.pos+off < len(lx.src) {
		return int(lx.src[lx.pos+off])
	}
	return -1
}

// newline consumes a line break (\n, \r, \r\n or \n\r) at pos.
func (lx *lexer) newline() {
	c := lx.src[lx.pos]
	lx.pos++
	lx.line++
	if n := lx.peek(0); (n == '\n' || n == '\r') && n != int(c) {
		lx.pos++
	}
}

func isLuaNameStart(c int) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isLuaDigit(c int) bool { return '0' <= c && c <= '9' }

func isLuaHexDigit(c int) bool {
	return isLuaDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// next returns the class of the next token (and its keyword, if any).
func (lx *lexer) next() (class, kw int) {
	for {
		c := lx.peek(0)
		switch {
		case c < 0:
			return tkEOF, kwNone
		case c == ' ' || c == '\t':
			lx.pos++
		case c == '\n' || c == '\r':
			lx.newline()
		case c == '-' && lx.peek(1) == '-':
			lx.pos += 2
			lx.comment()
		case isLuaNameStart(c):
			start := lx.pos
			for lx.pos++; isLuaNameStart(lx.peek(0)) || isLuaDigit(lx.peek(0)); lx.pos++ {
			}
			if k, ok := keywords[string(lx.src[start:lx.pos])]; ok {
				return k.class, k.kw
			}
			return tkName, kwNone
		case isLuaDigit(c) || c == '.' && isLuaDigit(lx.peek(1)):
			lx.number()
			return tkOperand, kwNone
		case c == '"' || c == '\'':
			lx.quoted(c)
			return tkString, kwNone
		case c == '[' && (lx.peek(1) == '[' || lx.peek(1) == '='):
			lx.pos++
			lx.longBracket()
			return tkString, kwNone
		default:
			return lx.symbol(c)
		}
	}
}

// symbol reads an operator or punctuation token starting with c.
func (lx *lexer) symbol(c int) (class, kw int) {
	lx.pos++
	two := func(second int) bool {
		if lx.peek(0) == second {
			lx.pos++
			return true
		}
		return false
	}
	switch c {
	case '(', '[', '{':
		return tkOpen, kwNone
	case ')', ']', '}':
		return tkClose, kwNone
	case '-':
		return tkMinus, kwNone
	case '#':
		return tkUnary, kwNone
	case '+', '*', '/', '%', '^', '<', '>':
		two('=')
		return tkBinary, kwNone
	case '~':
		if two('=') {
			return tkBinary, kwNone
		}
		return tkInvalid, kwNone
	case '=':
		if two('=') {
			return tkBinary, kwNone
		}
		return tkSeparator, kwNone
	case '.':
		if two('.') {
			if two('.') {
				return tkOperand, kwNone // ...
			}
		}
		return tkBinary, kwNone // . and ..
	case ':':
		if two(':') {
			return tkSeparator, kwNone
		}
		return tkBinary, kwNone
	case ',', ';':
		return tkSeparator, kwNone
	}
	return tkInvalid, kwNone
}

// comment skips a comment whose "--" has been read: a long comment when
// "[[" or "[=" follows, else the rest of the line (gopher-lua reads "--["
// followed by anything else as a line comment too).
func (lx *lexer) comment() {
	if lx.peek(0) == '[' && (lx.peek(1) == '[' || lx.peek(1) == '=') {
		lx.pos++
		lx.longBracket()
		return
	}
	for c := lx.peek(0); c >= 0 && c != '\n' && c != '\r'; c = lx.peek(0) {
		lx.pos++
	}
}

// longBracket skips a long string or comment whose first "[" has been
// read: "="*n "[" ... "]" "="*n "]". A malformed opening or a missing end
// is a syntax error for the parser; the scan just goes on.
func (lx *lexer) longBracket() {
	level := 0
	for lx.peek(0) == '=' {
		level++
		lx.pos++
	}
	if lx.peek(0) != '[' {
		return
	}
	lx.pos++
	for {
		c := lx.peek(0)
		switch {
		case c < 0:
			return
		case c == '\n' || c == '\r':
			lx.newline()
		case c == ']':
			lx.pos++
			n := 0
			for lx.peek(0) == '=' {
				n++
				lx.pos++
			}
			if n == level && lx.peek(0) == ']' {
				lx.pos++
				return
			}
		default:
			lx.pos++
		}
	}
}

// quoted skips a string in quote marks; a backslash escapes any byte,
// line breaks included.
func (lx *lexer) quoted(quote int) {
	lx.pos++
	for {
		c := lx.peek(0)
		switch {
		case c < 0 || c == '\n' || c == '\r':
			return // unfinished: a syntax error
		case c == quote:
			lx.pos++
			return
		case c == '\\':
			lx.pos++
			if n := lx.peek(0); n == '\n' || n == '\r' {
				lx.newline()
			} else if n >= 0 {
				lx.pos++
			}
		default:
			lx.pos++
		}
	}
}

// number skips a numeral exactly as gopher-lua's scanner does, including
// its habit of taking the byte after an exponent's "e" whatever it is:
// where the numeral ends decides which brackets the parser sees.
func (lx *lexer) number() {
	digits := func() {
		for isLuaDigit(lx.peek(0)) {
			lx.pos++
		}
	}
	if lx.peek(0) == '0' && (lx.peek(1) == 'x' || lx.peek(1) == 'X') {
		lx.pos += 2
		for isLuaHexDigit(lx.peek(0)) {
			lx.pos++
		}
		return
	}
	lx.pos++ // the first digit, or the "." of ".5"
	digits()
	if lx.peek(0) == '.' {
		lx.pos++
		digits()
	}
	if c := lx.peek(0); c == 'e' || c == 'E' {
		lx.pos++
		if c := lx.peek(0); c == '-' || c == '+' {
			lx.pos++
		}
		switch c := lx.peek(0); {
		case c == '\n' || c == '\r':
			lx.newline()
		case c >= 0:
			lx.pos++
		}
		digits()
	}
}

// Kinds of nesting levels.
const (
	lvChunk = iota
	lvBlock
	lvRepeat
	lvParen
	lvBracket
	lvBrace
)

// bracketKind maps a bracket byte to its level kind.
func bracketKind(c byte) int {
	switch c {
	case '(', ')':
		return lvParen
	case '[', ']':
		return lvBracket
	}
	return lvBrace
}

// level is one open block or bracket.
type level struct {
	kind    int
	awaitDo bool // a while or for whose "do" is still to come
	tree    int  // tree levels it adds: levelSlack, elseif branches, seg
	seg     int  // operators, fields and calls in the current expression
	unary   int  // unary operators waiting for their operand
}

// levelSlack is how many tree levels one block or bracket may add besides
// its operators (a statement, the bracketed node, a leaf).
const levelSlack = 3

// depthScan measures a chunk's nesting as the parser will see it. nesting
// and depth are the sums over the open levels, kept as tokens go by.
type depthScan struct {
	lx      lexer
	levels  []level
	lim     Limits
	nesting int // open levels and their pending unary operators
	depth   int // bound on the syntax tree's depth at this token

	// localFunction has one entry per `local` keyword, in source order:
	// whether `function` follows it. gopher-lua's tree does not tell
	// `local function f` from `local f = function`.
	localFunction []bool
	afterLocal    bool
	exprEnd       bool // the previous token ends an expression
}

// scanDepth checks src against lim's nesting limits (lim has its defaults
// filled in) and returns, for each `local` keyword in order, whether it
// begins `local function`.
func scanDepth(src []byte, lim Limits) ([]bool, error) {
	d := &depthScan{lx: lexer{src: src, line: 1}, lim: lim}
	d.levels = make([]level, 0, 16)
	d.push(lvChunk)
	d.nesting-- // the chunk itself is not a level in Lua's count
	for {
		class, kw := d.lx.next()
		if class == tkEOF {
			return d.localFunction, nil
		}
		if d.afterLocal {
			d.localFunction = append(d.localFunction, kw == kwFunction)
			d.afterLocal = false
		}
		d.token(class, kw)
		if err := d.check(); err != nil {
			return nil, err
		}
	}
}

func (d *depthScan) top() *level { return &d.levels[len(d.levels)-1] }

// addSeg counts n more links in the current expression.
func (d *depthScan) addSeg(n int) {
	t := d.top()
	t.seg += n
	t.tree += n
	d.depth += n
}

// setUnary sets the number of unary operators waiting at the current level.
func (d *depthScan) setUnary(n int) {
	t := d.top()
	d.nesting += n - t.unary
	t.unary = n
}

// newSegment starts a new expression at the current level.
func (d *depthScan) newSegment() {
	d.addSeg(-d.top().seg)
	d.setUnary(0)
}

func (d *depthScan) push(kind int) {
	d.levels = append(d.levels, level{kind: kind, tree: levelSlack})
	d.nesting++
	d.depth += levelSlack
}

// pop closes the innermost level if it is of the given kind. A mismatch is
// a syntax error; keeping the level open then only overestimates the depth.
func (d *depthScan) pop(kind int) {
	t := d.top()
	if len(d.levels) == 1 || t.kind != kind {
		return
	}
	d.nesting -= 1 + t.unary
	d.depth -= t.tree
	d.levels = d.levels[:len(d.levels)-1]
}

// token updates the levels for one token.
func (d *depthScan) token(class, kw int) {
	wasEnd := d.exprEnd
	d.exprEnd = false
	switch class {
	case tkName:
		if wasEnd {
			d.newSegment() // juxtaposed names: a new statement
		}
		d.setUnary(0)
		d.exprEnd = true
	case tkString:
		if wasEnd {
			d.addSeg(1) // f "s": a call
		}
		d.setUnary(0)
		d.exprEnd = true
	case tkOperand:
		d.setUnary(0)
		d.exprEnd = true
	case tkOpen:
		if wasEnd {
			d.addSeg(1) // f(...), t[k], f{...}
		}
		d.push(bracketKind(d.lx.src[d.lx.pos-1]))
	case tkClose:
		d.pop(bracketKind(d.lx.src[d.lx.pos-1]))
		d.setUnary(0)
		d.exprEnd = true
	case tkBinary:
		d.addSeg(1)
		d.setUnary(0)
	case tkMinus:
		d.addSeg(1)
		if wasEnd {
			d.setUnary(0)
		} else {
			d.setUnary(d.top().unary + 1)
		}
	case tkUnary:
		d.addSeg(1)
		d.setUnary(d.top().unary + 1)
	case tkSeparator:
		d.newSegment()
	case tkKeyword:
		d.keyword(kw, wasEnd)
	}
}

// keyword updates the levels for a keyword that opens, continues or
// closes a block.
func (d *depthScan) keyword(kw int, wasEnd bool) {
	switch kw {
	case kwFunction:
		if wasEnd {
			d.newSegment() // a function statement
		}
		d.addSeg(1)
		d.push(lvBlock)
	case kwDo:
		if t := d.top(); t.awaitDo {
			t.awaitDo = false
			d.newSegment()
			return
		}
		d.newSegment()
		d.push(lvBlock)
	case kwWhile, kwFor:
		d.newSegment()
		d.push(lvBlock)
		d.top().awaitDo = true
	case kwIf:
		d.newSegment()
		d.push(lvBlock)
	case kwRepeat:
		d.newSegment()
		d.push(lvRepeat)
	case kwElseif:
		d.newSegment()
		d.top().tree++ // each elseif nests one more if statement
		d.depth++
	case kwThen, kwElse, kwStatement:
		d.newSegment()
	case kwEnd:
		d.pop(lvBlock)
		d.exprEnd = true // function ... end is an operand
	case kwUntil:
		d.pop(lvRepeat)
		d.newSegment()
		d.addSeg(1) // the condition hangs below the repeat statement
	case kwLocal:
		d.newSegment()
		d.afterLocal = true
	}
}

// check compares the current depths with the limits.
func (d *depthScan) check() error {
	if int64(d.nesting) > d.lim.MaxNesting {
		return &SourceLimitError{Line: d.lx.line, Limit: "MaxNesting", Value: d.lim.MaxNesting, Got: int64(d.nesting)}
	}
	if int64(d.depth) > d.lim.MaxExpressionDepth {
		return &SourceLimitError{Line: d.lx.line, Limit: "MaxExpressionDepth", Value: d.lim.MaxExpressionDepth, Got: int64(d.depth)}
	}
	return nil
}
