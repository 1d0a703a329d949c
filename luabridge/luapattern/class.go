package luapattern

// Character classes, as the C library's ctype functions classify bytes in the
// "C" locale (Lua 5.1 reference manual §5.4.1): only ASCII bytes belong to a
// class; bytes from 128 to 255 belong to none.

// Class bits, one per class letter.
const (
	clAlpha  uint16 = 1 << iota // %a
	clCntrl                     // %c
	clDigit                     // %d
	clLower                     // %l
	clPunct                     // %p
	clSpace                     // %s
	clUpper                     // %u
	clAlnum                     // %w
	clXdigit                    // %x
	clZero                      // %z, the byte 0 (Lua 5.1's way to match it)
)

// ctype holds the classes of every byte.
var ctype = func() (t [256]uint16) {
	for c := 0; c < 128; c++ {
		var k uint16
		lower, upper, digit := 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9'
		if lower || upper {
			k |= clAlpha | clAlnum
		}
		if lower {
			k |= clLower
		}
		if upper {
			k |= clUpper
		}
		if digit {
			k |= clDigit | clAlnum | clXdigit
		}
		if ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') {
			k |= clXdigit
		}
		if c < 32 || c == 127 {
			k |= clCntrl
		}
		if c == ' ' || ('\t' <= c && c <= '\r') {
			k |= clSpace
		}
		if 32 < c && c < 127 && !lower && !upper && !digit {
			k |= clPunct
		}
		if c == 0 {
			k |= clZero
		}
		t[c] = k
	}
	return t
}()

// classKind describes the letter after a '%': the class it names and
// whether it is the complement (an upper-case letter). A zero mask means the
// letter names no class and stands for itself.
type classKind struct {
	mask   uint16
	negate bool
}

var classOf = func() (t [256]classKind) {
	for _, e := range []struct {
		letter byte
		mask   uint16
	}{
		{'a', clAlpha}, {'c', clCntrl}, {'d', clDigit}, {'l', clLower}, {'p', clPunct},
		{'s', clSpace}, {'u', clUpper}, {'w', clAlnum}, {'x', clXdigit}, {'z', clZero},
	} {
		t[e.letter] = classKind{mask: e.mask}
		t[e.letter-'a'+'A'] = classKind{mask: e.mask, negate: true}
	}
	return t
}()

// matchClass reports whether c matches %cl: a class such as %d or its
// complement %D, or, for any other byte, cl itself (so "%." is a dot).
func matchClass(c, cl byte) bool {
	k := classOf[cl]
	if k.mask == 0 {
		return cl == c
	}
	return (ctype[c]&k.mask != 0) != k.negate
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return ctype[c]&clAlnum != 0 }
