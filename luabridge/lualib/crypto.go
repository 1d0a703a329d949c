package lualib

// This file implements lsgi.crypto: what signed cookies and tokens need,
// from Go's crypto packages. Strings are bytes: functions without _hex
// return raw bytes.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// maxRandomBytes bounds one call for random bytes.
const maxRandomBytes = 1 << 20

// defaultTokenBytes is the entropy of crypto.token() without an argument.
const defaultTokenBytes = 32

func openCrypto(L *lua.LState) int {
	L.Push(newModule(L, map[string]lua.LGFunction{
		"sha256":           cryptoSHA256(false),
		"sha256_hex":       cryptoSHA256(true),
		"hmac_sha256":      cryptoHMAC(false),
		"hmac_sha256_hex":  cryptoHMAC(true),
		"equals":           cryptoEquals,
		"random_bytes":     cryptoRandom(func(b []byte) string { return string(b) }),
		"random_hex":       cryptoRandom(hex.EncodeToString),
		"token":            cryptoToken,
		"base64_encode":    cryptoEncode(base64.StdEncoding.EncodeToString),
		"base64_decode":    cryptoDecode("base64_decode", base64.StdEncoding.DecodeString),
		"base64url_encode": cryptoEncode(base64.RawURLEncoding.EncodeToString),
		"base64url_decode": cryptoDecode("base64url_decode", func(s string) ([]byte, error) {
			// With or without padding, as JWTs and browsers give them.
			return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		}),
		"hex_encode": cryptoEncode(hex.EncodeToString),
		"hex_decode": cryptoDecode("hex_decode", hex.DecodeString),
	}))
	return 1
}

// cryptoSHA256: sha256(s) -> 32 bytes; sha256_hex(s) -> 64 hex digits.
func cryptoSHA256(asHex bool) lua.LGFunction {
	return func(L *lua.LState) int {
		sum := sha256.Sum256([]byte(checkLString(L, 1)))
		if asHex {
			L.Push(lua.LString(hex.EncodeToString(sum[:])))
		} else {
			L.Push(lua.LString(sum[:]))
		}
		return 1
	}
}

// cryptoHMAC: hmac_sha256(key, message) -> 32 bytes; hmac_sha256_hex ->
// 64 hex digits.
func cryptoHMAC(asHex bool) lua.LGFunction {
	return func(L *lua.LState) int {
		m := hmac.New(sha256.New, []byte(checkLString(L, 1)))
		m.Write([]byte(checkLString(L, 2)))
		sum := m.Sum(nil)
		if asHex {
			L.Push(lua.LString(hex.EncodeToString(sum)))
		} else {
			L.Push(lua.LString(sum))
		}
		return 1
	}
}

// cryptoEquals: equals(a, b) -> whether the strings are equal, in a time
// that depends on their lengths only (compare MACs and tokens with it,
// never with ==).
func cryptoEquals(L *lua.LState) int {
	a, b := checkLString(L, 1), checkLString(L, 2)
	L.Push(lua.LBool(subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1))
	return 1
}

// randomBytes reads n (argument 1, default def) bytes from the system's
// secure random source.
func randomBytes(L *lua.LState, def int) []byte {
	n := L.OptInt(1, def)
	if n < 1 || n > maxRandomBytes {
		L.ArgError(1, "the number of random bytes must be from 1 to 1048576")
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		L.RaiseError("lsgi.crypto: %s", err.Error())
	}
	return b
}

// cryptoRandom: random_bytes(n) -> n bytes; random_hex(n) -> 2n hex digits.
func cryptoRandom(format func([]byte) string) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.Get(1) == lua.LNil {
			L.ArgError(1, "the number of random bytes is missing")
		}
		L.Push(lua.LString(format(randomBytes(L, 0))))
		return 1
	}
}

// cryptoToken: token([n]) -> n random bytes (32 by default) in base64url
// without padding: safe in URLs, cookies and form fields.
func cryptoToken(L *lua.LState) int {
	L.Push(lua.LString(base64.RawURLEncoding.EncodeToString(randomBytes(L, defaultTokenBytes))))
	return 1
}

func cryptoEncode(encode func([]byte) string) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(lua.LString(encode([]byte(checkLString(L, 1)))))
		return 1
	}
}

// cryptoDecode returns a decoder: name(s) -> the bytes, or nil and a
// message when s is not well formed.
func cryptoDecode(name string, decode func(string) ([]byte, error)) lua.LGFunction {
	return func(L *lua.LState) int {
		b, err := decode(checkLString(L, 1))
		if err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString("lsgi.crypto." + name + ": " + err.Error()))
			return 2
		}
		L.Push(lua.LString(b))
		return 1
	}
}
