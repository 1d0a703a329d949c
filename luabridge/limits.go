package luabridge

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lsgi/lsgi/luabridge/luapattern"
	lua "github.com/yuin/gopher-lua"
)

// Limits bound the work and memory one call of a builtin may take, so that
// no Lua code can exhaust the host (docs/SECURITY.md, "Limits"). A zero
// field takes its default; each field is also an `lsgi serve --limit
// NAME=VALUE` setting, named in the comment.
type Limits struct {
	// MaxStringBytes bounds every string a builtin or toolkit function
	// builds (string.rep, string.format, table.concat, lsgi.input:read,
	// json.encode, lsgi.template.render, ...). Name "string-bytes";
	// default 64 MiB.
	MaxStringBytes int64

	// MaxDataNodes bounds the values one conversion visits (json.encode,
	// json.decode, lsgi.template data): a table shared at every level
	// counts each time it is reached. Name "data-nodes"; default
	// 1,000,000.
	MaxDataNodes int64

	// MaxDataDepth bounds the nesting of the values json.encode,
	// json.decode and lsgi.template convert. Name "data-depth"; default
	// 1000.
	MaxDataDepth int64

	// MaxPatternSteps bounds the matching steps of one string.find,
	// match, gmatch or gsub call (luapattern). Name "pattern-steps";
	// default 10,000,000.
	MaxPatternSteps int64

	// MaxSourceBytes bounds one chunk of Lua source: a plugin file, a
	// module, a file given to dofile or loadfile, a string given to load
	// or loadstring. Name "source-bytes"; default 1 MiB (gopher-lua takes
	// about a second and 100 MB to compile a megabyte).
	MaxSourceBytes int64

	// MaxNesting bounds how deeply blocks, brackets and unary operators
	// nest in a chunk, as Lua 5.1 does ("chunk has too many syntax
	// levels", LUAI_MAXCCALLS). Name "nesting"; default 200.
	MaxNesting int64

	// MaxExpressionDepth bounds the depth of a chunk's syntax tree once
	// chains count too (each operator, field access and call of
	// `a.b:c() + d` is one level): gopher-lua's compiler recurses once per
	// level. Name "expression-depth"; default 1000.
	MaxExpressionDepth int64
}

// Default values of [Limits].
const (
	DefaultMaxStringBytes  = 64 << 20
	DefaultMaxDataNodes    = 1_000_000
	DefaultMaxDataDepth    = 1000
	DefaultMaxPatternSteps = luapattern.DefaultBudget

	DefaultMaxSourceBytes     = 1 << 20
	DefaultMaxNesting         = 200 // Lua 5.1's own limit
	DefaultMaxExpressionDepth = 1000
)

// limitField describes one field of Limits for --limit and error messages.
type limitField struct {
	name  string // the --limit NAME
	field string // the Go field
	bytes bool   // the value is a size: accepts KiB, MiB, GiB
	get   func(*Limits) *int64
	def   int64
}

var limitFields = []limitField{
	{"string-bytes", "MaxStringBytes", true, func(l *Limits) *int64 { return &l.MaxStringBytes }, DefaultMaxStringBytes},
	{"data-nodes", "MaxDataNodes", false, func(l *Limits) *int64 { return &l.MaxDataNodes }, DefaultMaxDataNodes},
	{"data-depth", "MaxDataDepth", false, func(l *Limits) *int64 { return &l.MaxDataDepth }, DefaultMaxDataDepth},
	{"pattern-steps", "MaxPatternSteps", false, func(l *Limits) *int64 { return &l.MaxPatternSteps }, DefaultMaxPatternSteps},
	{"source-bytes", "MaxSourceBytes", true, func(l *Limits) *int64 { return &l.MaxSourceBytes }, DefaultMaxSourceBytes},
	{"nesting", "MaxNesting", false, func(l *Limits) *int64 { return &l.MaxNesting }, DefaultMaxNesting},
	{"expression-depth", "MaxExpressionDepth", false, func(l *Limits) *int64 { return &l.MaxExpressionDepth }, DefaultMaxExpressionDepth},
}

// WithDefaults returns l with every zero or negative field set to its
// default.
func (l Limits) WithDefaults() Limits {
	for _, f := range limitFields {
		if p := f.get(&l); *p <= 0 {
			*p = f.def
		}
	}
	return l
}

// String renders the limits that differ from zero as NAME=VALUE pairs: the
// flag.Value form of --limit.
func (l *Limits) String() string {
	if l == nil {
		return ""
	}
	var parts []string
	for _, f := range limitFields {
		if v := *f.get(l); v != 0 {
			parts = append(parts, f.name+"="+strconv.FormatInt(v, 10))
		}
	}
	return strings.Join(parts, ",")
}

// Set parses one NAME=VALUE setting, such as "string-bytes=128MiB" (sizes
// take a KiB, MiB or GiB suffix). It makes *Limits a flag.Value, so that
// `--limit` can be repeated.
func (l *Limits) Set(setting string) error {
	name, value, ok := strings.Cut(setting, "=")
	if !ok {
		return fmt.Errorf("luabridge: limit %q: want NAME=VALUE (names: %s)", setting, limitNames())
	}
	for _, f := range limitFields {
		if f.name != strings.TrimSpace(name) {
			continue
		}
		n, err := parseLimitValue(strings.TrimSpace(value), f.bytes)
		if err != nil {
			return fmt.Errorf("luabridge: limit %s: %w", f.name, err)
		}
		*f.get(l) = n
		return nil
	}
	return fmt.Errorf("luabridge: unknown limit %q (names: %s)", name, limitNames())
}

func limitNames() string {
	names := make([]string, len(limitFields))
	for i, f := range limitFields {
		names[i] = f.name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

var sizeSuffixes = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func parseLimitValue(s string, bytes bool) (int64, error) {
	mult := int64(1)
	if bytes {
		for _, sf := range sizeSuffixes {
			if rest, ok := strings.CutSuffix(s, sf.suffix); ok {
				s, mult = strings.TrimSpace(rest), sf.mult
				break
			}
		}
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive whole number" + map[bool]string{true: " of bytes (suffixes KiB, MiB, GiB)"}[bytes])
	}
	if n > (1<<62)/mult {
		return 0, errors.New("value too large")
	}
	return n * mult, nil
}

// LimitError describes a limit that stopped a call: the message names the
// limit and how to raise it.
func LimitError(name string, value int64, what string) string {
	for _, f := range limitFields {
		if f.name == name {
			shown := strconv.FormatInt(value, 10)
			if f.bytes {
				shown = formatBytes(value)
			}
			return fmt.Sprintf("%s exceeds the %s limit of %s (raise it with lsgi serve --limit %s=N, or Limits.%s in host.Config)",
				what, name, shown, name, f.field)
		}
	}
	return what + " exceeds the " + name + " limit"
}

// formatBytes shows a size the way --limit accepts it.
func formatBytes(n int64) string {
	for _, sf := range sizeSuffixes[:3] {
		if n >= sf.mult && n%sf.mult == 0 {
			return strconv.FormatInt(n/sf.mult, 10) + " " + sf.suffix
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// raiseLimit raises a catchable Lua error for a limit a builtin reached.
func raiseLimit(L *lua.LState, fn string, name string, value int64, what string) {
	L.RaiseError("%s: %s", fn, LimitError(name, value, what))
}
