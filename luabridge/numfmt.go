package luabridge

// This file turns numbers into text and text into numbers the way Lua 5.1
// does on Linux (glibc on x86-64): "%.14g" for tostring, C printf
// conversions for string.format, strtod and strtoul for tonumber. Where C
// leaves a conversion undefined (a double out of an integer's range), the
// results are those of x86-64, the reference platform of the conformance
// suite (tests/lua51).

import (
	"math"
	"strconv"
	"strings"
)

// numberFormatPrecision is the precision of Lua 5.1's LUA_NUMBER_FMT, "%.14g".
const numberFormatPrecision = 14

// formatNumber returns n as tostring shows it in Lua 5.1.
func formatNumber(n float64) string {
	return string(appendNumber(nil, n))
}

// appendNumber appends n in Lua 5.1's "%.14g" form.
func appendNumber(buf []byte, n float64) []byte {
	// Fast path: integers of up to 14 digits print as themselves.
	if n == math.Trunc(n) && math.Abs(n) < 1e14 && !(n == 0 && math.Signbit(n)) {
		return strconv.AppendInt(buf, int64(n), 10)
	}
	return appendFloat(buf, printfSpec{prec: numberFormatPrecision}, 'g', n)
}

// printfSpec holds the flags, width and precision of one C conversion.
type printfSpec struct {
	minus, plus, space, hash, zero bool
	width                          int
	prec                           int // -1: none given
}

// pad appends a converted value: sign and prefix first, then zeros (when
// the '0' flag applies) or spaces up to the width.
func (sp printfSpec) pad(buf []byte, prefix, body string, zeroPad bool) []byte {
	n := len(prefix) + len(body)
	fill := sp.width - n
	switch {
	case fill <= 0:
		buf = append(buf, prefix...)
		buf = append(buf, body...)
	case sp.minus:
		buf = append(buf, prefix...)
		buf = append(buf, body...)
		buf = appendRepeat(buf, ' ', fill)
	case sp.zero && zeroPad:
		buf = append(buf, prefix...)
		buf = appendRepeat(buf, '0', fill)
		buf = append(buf, body...)
	default:
		buf = appendRepeat(buf, ' ', fill)
		buf = append(buf, prefix...)
		buf = append(buf, body...)
	}
	return buf
}

func appendRepeat(buf []byte, c byte, n int) []byte {
	for ; n > 0; n-- {
		buf = append(buf, c)
	}
	return buf
}

// sign returns the sign prefix C prints for a value.
func (sp printfSpec) sign(negative bool) string {
	switch {
	case negative:
		return "-"
	case sp.plus:
		return "+"
	case sp.space:
		return " "
	}
	return ""
}

// appendFloat appends v converted by %e, %E, %f, %g or %G.
func appendFloat(buf []byte, sp printfSpec, conv byte, v float64) []byte {
	upper := conv == 'E' || conv == 'G'
	sign := sp.sign(math.Signbit(v))
	if math.IsInf(v, 0) || math.IsNaN(v) {
		word := "inf"
		if math.IsNaN(v) {
			word = "nan"
		}
		if upper {
			word = strings.ToUpper(word)
		}
		return sp.pad(buf, sign, word, false)
	}
	v = math.Abs(v)
	prec := sp.prec
	if prec < 0 {
		prec = 6
	}
	var body []byte
	switch conv {
	case 'e', 'E':
		body = appendExp(nil, v, prec, sp.hash)
	case 'f':
		body = strconv.AppendFloat(nil, v, 'f', prec, 64)
		if sp.hash && prec == 0 {
			body = append(body, '.')
		}
	default: // g, G
		if prec == 0 {
			prec = 1
		}
		exp := decimalExponent(v, prec)
		if exp < prec && exp >= -4 {
			body = strconv.AppendFloat(nil, v, 'f', prec-1-exp, 64)
			if sp.hash {
				if prec-1-exp == 0 {
					body = append(body, '.')
				}
			} else {
				body = trimFraction(body)
			}
		} else {
			body = appendExp(nil, v, prec-1, sp.hash)
			if !sp.hash {
				i := strings.IndexByte(string(body), 'e')
				mant := trimFraction(body[:i:i])
				body = append(mant, body[i:]...)
			}
		}
	}
	if upper {
		for i, c := range body {
			if c == 'e' {
				body[i] = 'E'
			}
		}
	}
	return sp.pad(buf, sign, string(body), true)
}

// appendExp appends v (not negative) in C's %.{prec}e form: Go writes the
// exponent with at least two digits, as C does.
func appendExp(buf []byte, v float64, prec int, hash bool) []byte {
	buf = strconv.AppendFloat(buf, v, 'e', prec, 64)
	if hash && prec == 0 {
		i := strings.IndexByte(string(buf), 'e')
		buf = append(buf[:i], append([]byte{'.'}, buf[i:]...)...)
	}
	return buf
}

// decimalExponent returns the exponent v has once rounded to prec
// significant digits, as %g decides between %e and %f.
func decimalExponent(v float64, prec int) int {
	if v == 0 {
		return 0
	}
	s := strconv.FormatFloat(v, 'e', prec-1, 64)
	exp, _ := strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	return exp
}

// trimFraction drops trailing zeros after a decimal point, and the point
// itself when nothing follows it.
func trimFraction(b []byte) []byte {
	if strings.IndexByte(string(b), '.') < 0 {
		return b
	}
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

// appendInt appends v converted by %d or %i.
func appendInt(buf []byte, sp printfSpec, v int64) []byte {
	mag := uint64(v)
	if v < 0 {
		mag = -mag
	}
	digits := intDigits(mag, 10, false, sp.prec)
	return sp.pad(buf, sp.sign(v < 0), digits, sp.prec < 0)
}

// appendUint appends v converted by %o, %u, %x or %X.
func appendUint(buf []byte, sp printfSpec, conv byte, v uint64) []byte {
	base := map[byte]int{'o': 8, 'u': 10, 'x': 16, 'X': 16}[conv]
	digits := intDigits(v, base, conv == 'X', sp.prec)
	prefix := ""
	if sp.hash {
		switch {
		case conv == 'o' && !strings.HasPrefix(digits, "0"):
			digits = "0" + digits
		case conv == 'x' && v != 0:
			prefix = "0x"
		case conv == 'X' && v != 0:
			prefix = "0X"
		}
	}
	return sp.pad(buf, prefix, digits, sp.prec < 0)
}

// intDigits renders v with at least prec digits; a zero precision and a
// zero value give no digits at all, as in C.
func intDigits(v uint64, base int, upper bool, prec int) string {
	if prec == 0 && v == 0 {
		return ""
	}
	s := strconv.FormatUint(v, base)
	if upper {
		s = strings.ToUpper(s)
	}
	if len(s) < prec {
		s = strings.Repeat("0", prec-len(s)) + s
	}
	return s
}

// Conversions of a double to C integer types, as x86-64 does them: a NaN or
// a value out of range gives the "integer indefinite" value (the most
// negative one).

const two63 = 9223372036854775808.0

// toInt64 is C's (long)d.
func toInt64(d float64) int64 {
	if math.IsNaN(d) || d >= two63 || d < -two63 {
		return math.MinInt64
	}
	return int64(d)
}

// toUint64 is C's (unsigned long)d as GCC compiles it for x86-64.
func toUint64(d float64) uint64 {
	if !(d >= two63) {
		return uint64(toInt64(d))
	}
	return uint64(toInt64(d-two63)) ^ (1 << 63)
}

// toInt32 is C's (int)d.
func toInt32(d float64) int32 {
	if math.IsNaN(d) || d >= 1<<31 || d < -(1<<31) {
		return math.MinInt32
	}
	return int32(d)
}

// checkintValue is luaL_checkint's (int)(lua_Integer)d: a conversion to a
// 64-bit integer, then truncation to 32 bits.
func checkintValue(d float64) int {
	return int(int32(toInt64(d)))
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// str2number converts a string as Lua 5.1 does (luaO_str2d over glibc's
// strtod): surrounding white space, a sign, decimal numbers with an
// exponent, hexadecimal numbers (with a fraction and a p exponent), "inf",
// "infinity" and "nan". A NUL byte ends the string, as in C.
func str2number(s string) (float64, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	end, kind := scanStrtod(s, i)
	if end == start {
		return 0, false
	}
	for j := end; j < len(s); j++ {
		if !isSpace(s[j]) {
			return 0, false
		}
	}
	text := s[start:end]
	negative := text[0] == '-'
	switch kind {
	case 'i':
		if negative {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case 'n':
		if negative {
			return math.Copysign(math.NaN(), -1), true
		}
		return math.NaN(), true
	case 'x':
		if !strings.ContainsAny(text, "pP") {
			text += "p0"
		}
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return v, true
}

// scanStrtod returns where the number strtod would read from s[i:] ends
// (i when there is none) and its kind: 'd' decimal, 'x' hexadecimal,
// 'i' infinity, 'n' NaN.
func scanStrtod(s string, i int) (int, byte) {
	start := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return i + 8, 'i'
	case strings.HasPrefix(rest, "inf"):
		return i + 3, 'i'
	case strings.HasPrefix(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return j, 'n'
	case strings.HasPrefix(rest, "0x") && len(rest) > 2 && (isHex(rest[2]) || rest[2] == '.' && len(rest) > 3 && isHex(rest[3])):
		j := scanDigits(s, i+2, isHex)
		if j < len(s) && s[j] == '.' {
			j = scanDigits(s, j+1, isHex)
		}
		return scanExponent(s, j, 'p'), 'x'
	}
	j := scanDigits(s, i, isDigit)
	digits := j - i
	if j < len(s) && s[j] == '.' {
		k := scanDigits(s, j+1, isDigit)
		digits += k - j - 1
		j = k
	}
	if digits == 0 {
		return start, 0
	}
	return scanExponent(s, j, 'e'), 'd'
}

// scanExponent reads an exponent marker, a sign and digits, if all are
// there.
func scanExponent(s string, i int, marker byte) int {
	if i >= len(s) || s[i]|0x20 != marker {
		return i
	}
	j := i + 1
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	k := scanDigits(s, j, isDigit)
	if k == j {
		return i
	}
	return k
}

func scanDigits(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// strtoul converts s in base (2 to 36) as C's strtoul does, for
// tonumber(s, base): white space, a sign (a minus negates modulo 2^64), a
// 0x prefix in base 16, and saturation at 2^64-1 on overflow. ok is false
// when no digit was read or something other than white space follows.
func strtoul(s string, base int) (uint64, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	negative := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		negative = s[i] == '-'
		i++
	}
	if base == 16 && i+2 < len(s) && s[i] == '0' && s[i+1]|0x20 == 'x' && digitValue(s[i+2]) < 16 {
		i += 2
	}
	var n uint64
	overflow := false
	start := i
	for ; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= base {
			break
		}
		if n > (math.MaxUint64-uint64(d))/uint64(base) {
			overflow = true
		}
		n = n*uint64(base) + uint64(d)
	}
	if i == start {
		return 0, false
	}
	for ; i < len(s); i++ {
		if !isSpace(s[i]) {
			return 0, false
		}
	}
	switch {
	case overflow:
		return math.MaxUint64, true
	case negative:
		return -n, true
	}
	return n, true
}

// digitValue is the value of c as a digit in bases up to 36, or 99.
func digitValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c|0x20-'a') + 10
	}
	return 99
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
