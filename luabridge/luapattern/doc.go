// Package luapattern matches Lua 5.1 patterns (Lua 5.1 reference manual
// §5.4.1) over byte strings, with a bound on the work one call may do.
//
// It is the engine behind the string.find, string.match, string.gmatch and
// string.gsub that luabridge installs in every Lua state. It gives the
// results and the errors that Lua 5.1's string library gives, with the same
// wording, and it works directly on the pattern text, without compiling it:
//
//   - single characters: a literal byte, '.', the classes %a %c %d %l %p %s
//     %u %w %x %z and their complements %A ... %Z (ASCII, as in the C locale),
//     %x for any non-alphanumeric x, and sets [...] with ranges, classes and
//     a leading ^;
//   - items: a single character alone or followed by * + - ?, %1 to %9
//     (back-references), %bxy (balanced text), %f[set] (frontier);
//   - ^ anchors a match at its start only at the beginning of the pattern, $
//     only at its end; elsewhere both are literal;
//   - captures (...), position captures (), at most [MaxCaptures].
//
// As in Lua 5.1, a malformed pattern is an error only when matching reaches
// the malformed part, and the pattern ends at its first zero byte (match the
// byte 0 with %z). Errors are of type [*Error] and carry Lua's message.
//
// # Bounds
//
// Backtracking can take time exponential in the pattern's length, all
// inside one call. A [Matcher] therefore counts steps: one step is one try
// of one pattern item at one subject position (a byte compared by a
// repetition, a balance or a back-reference counts too). Past its budget
// (set by [Matcher.Reset], [DefaultBudget] by default) a call stops with
// [ErrBudget]. Every few thousand steps the matcher also checks the context
// given to Reset and stops when it is done. Nested matching is bounded by
// [MaxDepth], as Lua 5.2 and later bound it: a pattern needing more fails
// with "pattern too complex" (Lua 5.1 has no such bound and can overflow the
// C stack instead). [Matcher.Gsub] bounds its result's length.
//
// # Thread safety
//
// A Matcher is used by one goroutine at a time; it keeps the captures of its
// last match. Use one Matcher per concurrent caller, or a sync.Pool.
package luapattern
