package luabridge

// Limits bound what an app's Lua code may ask of the host. A limit that
// is zero (or negative) takes its default. Each error raised at a limit
// names the field that sets it.
type Limits struct {
	// MaxSourceBytes bounds the size of one chunk of Lua source: a plugin
	// file, a module, or a string given to load or loadstring. Default
	// DefaultMaxSourceBytes.
	MaxSourceBytes int

	// MaxNesting bounds how deeply blocks, brackets and unary operators
	// nest in a chunk, as Lua 5.1 does ("chunk has too many syntax
	// levels", LUAI_MAXCCALLS). Default DefaultMaxNesting.
	MaxNesting int

	// MaxExpressionDepth bounds the depth of a chunk's syntax tree once
	// chains are counted too (each operator, field access and call of
	// `a.b:c() + d` is one level): gopher-lua's compiler recurses once
	// per level. Default DefaultMaxExpressionDepth.
	MaxExpressionDepth int
}

// Defaults of [Limits].
const (
	// DefaultMaxSourceBytes is 1 MiB of source, far more than any
	// hand-written module (a generated data file may need more).
	// gopher-lua takes about a second and 100 MB to compile a megabyte.
	DefaultMaxSourceBytes = 1 << 20
	// DefaultMaxNesting is Lua 5.1's own limit of 200 levels.
	DefaultMaxNesting = 200
	// DefaultMaxExpressionDepth lets chains a thousand links long through
	// (Lua 5.1 has no limit on `a or b or c ...`); compiling that deep
	// takes milliseconds.
	DefaultMaxExpressionDepth = 1000
)

// withDefaults returns l with every unset limit at its default.
func (l Limits) withDefaults() Limits {
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = DefaultMaxSourceBytes
	}
	if l.MaxNesting <= 0 {
		l.MaxNesting = DefaultMaxNesting
	}
	if l.MaxExpressionDepth <= 0 {
		l.MaxExpressionDepth = DefaultMaxExpressionDepth
	}
	return l
}
