package appdb

import (
	"strconv"
	"strings"
)

// This file reads SQL text just enough to find the `?` placeholders and the
// words outside string literals, quoted identifiers and comments. It
// follows the lexical rules of PostgreSQL (docs: "SQL Syntax, Lexical
// Structure") and of SQLite ("SQL Language Expressions", "SQLite Keywords").

// quotedEnd returns the index just past the string literal, quoted
// identifier, comment or dollar-quoted string that starts at q[i], or -1
// when none starts there. An unterminated one runs to the end of q. pg
// selects PostgreSQL's rules, otherwise SQLite's.
func quotedEnd(q string, i int, pg bool) int {
	c := q[i]
	switch {
	case c == '\'':
		backslash := pg && i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i == 1 || !isWordByte(q[i-2]))
		return closeQuote(q, i+1, '\'', backslash)
	case c == '"':
		return closeQuote(q, i+1, '"', false)
	case c == '`' && !pg:
		return closeQuote(q, i+1, '`', false)
	case c == '[' && !pg:
		if j := strings.IndexByte(q[i+1:], ']'); j >= 0 {
			return i + 1 + j + 1
		}
		return len(q)
	case c == '-' && i+1 < len(q) && q[i+1] == '-':
		if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j + 1
		}
		return len(q)
	case c == '/' && i+1 < len(q) && q[i+1] == '*':
		return closeComment(q, i+2, pg)
	case c == '$' && pg:
		return closeDollar(q, i)
	}
	return -1
}

// closeQuote finds the end of a quoted run whose body starts at i: a
// doubled quote stands for itself, and with backslash a backslash escapes
// the next byte.
func closeQuote(q string, i int, quote byte, backslash bool) int {
	for i < len(q) {
		switch q[i] {
		case '\\':
			if backslash {
				i += 2
				continue
			}
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(q)
}

// closeComment finds the end of a /* comment whose body starts at i.
// PostgreSQL's comments nest; SQLite's do not.
func closeComment(q string, i int, nest bool) int {
	depth := 1
	for i < len(q) {
		switch {
		case q[i] == '*' && i+1 < len(q) && q[i+1] == '/':
			depth--
			i += 2
			if depth == 0 || !nest {
				return i
			}
		case nest && q[i] == '/' && i+1 < len(q) && q[i+1] == '*':
			depth++
			i += 2
		default:
			i++
		}
	}
	return len(q)
}

// closeDollar returns the end of the dollar-quoted string $tag$...$tag$
// that starts at q[i], or -1 when q[i] starts none: a parameter ($1), or
// a $ inside an identifier (a$b).
func closeDollar(q string, i int) int {
	if i > 0 && isWordByte(q[i-1]) {
		return -1
	}
	j := i + 1
	for j < len(q) && q[j] != '$' {
		c := q[j]
		if !(c == '_' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || j > i+1 && '0' <= c && c <= '9') {
			return -1
		}
		j++
	}
	if j >= len(q) {
		return -1
	}
	tag := q[i : j+1]
	if k := strings.Index(q[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag)
	}
	return len(q)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// rebind turns the `?` placeholders of q into PostgreSQL's $1, $2, ...,
// leaving literals, quoted identifiers and comments alone; `??` becomes a
// single `?` (the jsonb operator).
func rebind(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); {
		if e := quotedEnd(q, i, true); e >= 0 {
			b.WriteString(q[i:e])
			i = e
			continue
		}
		c := q[i]
		if c != '?' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(q) && q[i+1] == '?' {
			b.WriteByte('?')
			i += 2
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		i++
	}
	return b.String()
}

// words calls f with each word of a SQLite statement outside literals,
// quoted identifiers and comments, upper-cased, until f returns false.
func words(q string, f func(w string) bool) {
	for i := 0; i < len(q); {
		if e := quotedEnd(q, i, false); e >= 0 {
			i = e
			continue
		}
		c := q[i]
		if !isWordByte(c) || c == '$' {
			i++
			continue
		}
		j := i
		for j < len(q) && isWordByte(q[j]) {
			j++
		}
		if !('0' <= c && c <= '9') && !f(strings.ToUpper(q[i:j])) {
			return
		}
		i = j
	}
}

// mayWrite tells whether a SQLite statement run as a query may write: one
// that does not start with SELECT, VALUES, WITH or EXPLAIN, or holds
// INSERT, UPDATE or DELETE (WITH ... INSERT, INSERT ... RETURNING). A wrong
// guess costs little: a writer that is not serialised waits on SQLite's
// busy timeout instead, and a reader that is only delays other writers.
func mayWrite(q string) bool {
	first, write := true, false
	words(q, func(w string) bool {
		if first {
			first = false
			switch w {
			case "SELECT", "VALUES", "WITH", "EXPLAIN":
			default:
				write = true
				return false
			}
		}
		switch w {
		case "INSERT", "UPDATE", "DELETE":
			write = true
			return false
		}
		return true
	})
	return write || first
}

// blank tells whether a SQLite text holds no statement: only white space,
// comments and semicolons.
func blank(q string) bool {
	empty := true
	words(q, func(string) bool {
		empty = false
		return false
	})
	return empty
}
