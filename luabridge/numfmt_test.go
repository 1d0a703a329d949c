package luabridge

import (
	"math"
	"testing"
)

// The expected values below are what Lua 5.1.5 prints on x86-64 Linux
// (the conformance suite in tests/lua51 checks the same against lua5.1).

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		desc string
		in   float64
		want string
	}{
		{"small integer", 42, "42"},
		{"negative integer", -100, "-100"},
		{"fourteen digits", 12345678901234, "12345678901234"},
		{"fifteen digits use an exponent", 123456789012345, "1.2345678901234e+14"},
		{"1e15", 1e15, "1e+15"},
		{"2^53", 1 << 53, "9.007199254741e+15"},
		{"a third", 1.0 / 3, "0.33333333333333"},
		{"0.1 + 0.2", 0.1 + 0.2, "0.3"},
		{"small", 1e-5, "1e-05"},
		{"denormal", 5e-324, "4.9406564584125e-324"},
		{"negative zero", math.Copysign(0, -1), "-0"},
		{"infinity", math.Inf(1), "inf"},
		{"minus infinity", math.Inf(-1), "-inf"},
		{"NaN", math.NaN(), "nan"},
		{"negative NaN", math.Copysign(math.NaN(), -1), "-nan"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.in); got != tt.want {
			t.Errorf("%s: formatNumber(%v) = %q, want %q", tt.desc, tt.in, got, tt.want)
		}
	}
}

func TestPrintfConversions(t *testing.T) {
	tests := []struct {
		desc string
		spec printfSpec
		conv byte
		in   float64
		want string
	}{
		{"%5.2f", printfSpec{width: 5, prec: 2}, 'f', 3.14159, " 3.14"},
		{"%-8.3e", printfSpec{minus: true, width: 8, prec: 3}, 'e', 1234.5, "1.234e+03"},
		{"%g large", printfSpec{prec: -1}, 'g', 1e20, "1e+20"},
		{"%G small", printfSpec{prec: -1}, 'G', 1e-20, "1E-20"},
		{"%g trims zeros", printfSpec{prec: -1}, 'g', 100000, "100000"},
		{"%g switches to e", printfSpec{prec: -1}, 'g', 1000000, "1e+06"},
		{"%#g keeps zeros", printfSpec{hash: true, prec: -1}, 'g', 1, "1.00000"},
		{"%#.0e", printfSpec{hash: true, prec: 0}, 'e', 5, "5.e+00"},
		{"%#.0f", printfSpec{hash: true, prec: 0}, 'f', 5, "5."},
		{"%010.3g", printfSpec{zero: true, width: 10, prec: 3}, 'g', math.Pi, "0000003.14"},
		{"%+.1f of zero", printfSpec{plus: true, prec: 1}, 'f', 0, "+0.0"},
		{"%.0f rounds half to even", printfSpec{prec: 0}, 'f', 2.5, "2"},
		{"%010f of -inf pads with spaces", printfSpec{zero: true, width: 10, prec: -1}, 'f', math.Inf(-1), "      -inf"},
		{"% e of inf", printfSpec{space: true, prec: -1}, 'e', math.Inf(1), " inf"},
	}
	for _, tt := range tests {
		if got := string(appendFloat(nil, tt.spec, tt.conv, tt.in)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.desc, got, tt.want)
		}
	}
	ints := []struct {
		desc string
		spec printfSpec
		conv byte
		in   float64
		want string
	}{
		{"%d truncates", printfSpec{prec: -1}, 'd', -3.99, "-3"},
		{"%d out of range", printfSpec{prec: -1}, 'd', 1e100, "-9223372036854775808"},
		{"%d NaN", printfSpec{prec: -1}, 'd', math.NaN(), "-9223372036854775808"},
		{"%x of -1", printfSpec{prec: -1}, 'x', -1, "ffffffffffffffff"},
		{"%x of 2^63", printfSpec{prec: -1}, 'x', 1 << 63, "8000000000000000"},
		{"%x of 2^64", printfSpec{prec: -1}, 'x', 1 << 64, "0"},
		{"%#X", printfSpec{hash: true, prec: -1}, 'X', 255, "0XFF"},
		{"%#o of 0", printfSpec{hash: true, prec: -1}, 'o', 0, "0"},
		{"%#.0o of 0", printfSpec{hash: true, prec: 0}, 'o', 0, "0"},
		{"%.0x of 0", printfSpec{prec: 0}, 'x', 0, ""},
		{"%5.3d", printfSpec{width: 5, prec: 3}, 'd', 7, "  007"},
		{"%05d", printfSpec{zero: true, width: 5, prec: -1}, 'd', 42, "00042"},
		{"%-+6d", printfSpec{minus: true, plus: true, width: 6, prec: -1}, 'd', 3, "+3    "},
		{"%u of -1", printfSpec{prec: -1}, 'u', -1, "18446744073709551615"},
	}
	for _, tt := range ints {
		var got string
		if tt.conv == 'd' {
			got = string(appendInt(nil, tt.spec, toInt64(tt.in)))
		} else {
			got = string(appendUint(nil, tt.spec, tt.conv, toUint64(tt.in)))
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.desc, got, tt.want)
		}
	}
}

func TestStr2Number(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want float64
		ok   bool
	}{
		{"integer", "10", 10, true},
		{"white space around", " \t10\n ", 10, true},
		{"exponent", "1e5", 1e5, true},
		{"leading point", ".5", 0.5, true},
		{"trailing point", "5.", 5, true},
		{"hexadecimal", "0x10", 16, true},
		{"negative hexadecimal", "-0x10", -16, true},
		{"hexadecimal float", "0x1p4", 16, true},
		{"hexadecimal fraction", "0x.8", 0.5, true},
		{"infinity", "inf", math.Inf(1), true},
		{"long infinity", "-Infinity", math.Inf(-1), true},
		{"overflow is infinite", "1e400", math.Inf(1), true},
		{"NUL ends the string", "12\x00x", 12, true},
		{"bare 0x", "0x", 0, false},
		{"exponent without digits", "1e", 0, false},
		{"empty", "", 0, false},
		{"space only", "  ", 0, false},
		{"two numbers", "1 2", 0, false},
		{"sign apart", "- 1", 0, false},
		{"trailing letter", "1x", 0, false},
		{"comma", "1,5", 0, false},
	}
	for _, tt := range tests {
		got, ok := str2number(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%s: str2number(%q) = %v, %v; want %v, %v", tt.desc, tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if v, ok := str2number("nan"); !ok || !math.IsNaN(v) {
		t.Errorf(`str2number("nan") = %v, %v`, v, ok)
	}
}

func TestStrtoul(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		base int
		want uint64
		ok   bool
	}{
		{"binary", "101", 2, 5, true},
		{"hexadecimal letters", "fF", 16, 255, true},
		{"0x prefix in base 16", "0xff", 16, 255, true},
		{"base 36", "zz", 36, 1295, true},
		{"spaces", " ff ", 16, 255, true},
		{"minus wraps around", "-ff", 16, 1<<64 - 255, true},
		{"overflow saturates", "ffffffffffffffffff", 16, 1<<64 - 1, true},
		{"digit out of base", "8", 8, 0, false},
		{"letter out of base", "1e1", 10, 0, false},
		{"empty", "", 16, 0, false},
	}
	for _, tt := range tests {
		got, ok := strtoul(tt.in, tt.base)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%s: strtoul(%q, %d) = %v, %v; want %v, %v", tt.desc, tt.in, tt.base, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzStr2Number(f *testing.F) {
	for _, seed := range []string{"10", "0x1p4", " -inf ", "1e", "nan(abc)", ".5e-3", "0x.", "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Whatever the text, the conversion must not panic, and a number it
		// accepts must print back to something it accepts again.
		v, ok := str2number(s)
		if !ok {
			return
		}
		if _, ok := str2number(formatNumber(v)); !ok {
			t.Errorf("%q reads as %v, whose text %q does not read back", s, v, formatNumber(v))
		}
	})
}
