package lualib

// This file implements the json module: encoding Lua values as JSON and
// decoding JSON into Lua values, with a json.null sentinel so that nulls
// survive in arrays and objects (a Lua table cannot hold nil).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// jsonNull is the Value of the json.null userdata.
type jsonNull struct{}

// jsonTypeField is the metatable field that forces how a table encodes:
// "array" or "object". json.array and json.object set it.
const jsonTypeField = "__jsontype"

// jsonModule holds a state's json sentinels and marker metatables.
type jsonModule struct {
	limits   luabridge.Limits
	null     *lua.LUserData
	arrayMT  *lua.LTable
	objectMT *lua.LTable
}

func (s *Shared) openJSON(L *lua.LState) int {
	m := &jsonModule{limits: s.limits}
	m.null = L.NewUserData()
	m.null.Value = jsonNull{}
	nullMT := L.NewTable()
	nullMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	nullMT.RawSetString("__metatable", lua.LString("json.null"))
	m.null.Metatable = nullMT
	m.arrayMT = L.NewTable()
	m.arrayMT.RawSetString(jsonTypeField, lua.LString("array"))
	m.objectMT = L.NewTable()
	m.objectMT.RawSetString(jsonTypeField, lua.LString("object"))

	mod := newModule(L, map[string]lua.LGFunction{
		"encode": m.encode,
		"decode": m.decode,
		"array":  m.mark(m.arrayMT),
		"object": m.mark(m.objectMT),
	})
	mod.RawSetString("null", m.null)
	L.Push(mod)
	return 1
}

// mark returns json.array or json.object: mark(t) gives t (or a new table)
// the marker metatable mt and returns it.
func (m *jsonModule) mark(mt *lua.LTable) lua.LGFunction {
	return func(L *lua.LState) int {
		t := L.OptTable(1, nil)
		if t == nil {
			t = L.NewTable()
		}
		if cur, ok := t.Metatable.(*lua.LTable); ok && cur != m.arrayMT && cur != m.objectMT {
			L.ArgError(1, "the table already has a metatable; set its "+jsonTypeField+" field instead")
		}
		t.Metatable = mt
		L.Push(t)
		return 1
	}
}

// jsonPathError is an encoding error with the path of the value at fault,
// built while the recursion unwinds.
type jsonPathError struct {
	path []string // innermost first
	msg  string
}

func (e *jsonPathError) Error() string {
	var b strings.Builder
	b.WriteString("value")
	for i := len(e.path) - 1; i >= 0; i-- {
		b.WriteString(e.path[i])
	}
	return b.String() + ": " + e.msg
}

func jsonErrorf(format string, args ...any) error {
	return &jsonPathError{msg: fmt.Sprintf(format, args...)}
}

func jsonAt(err error, step string) error {
	var pe *jsonPathError
	if errors.As(err, &pe) {
		pe.path = append(pe.path, step)
	}
	return err
}

// jsonEncoder appends the JSON text of Lua values to buf.
type jsonEncoder struct {
	L      *lua.LState
	buf    []byte
	open   map[*lua.LTable]bool // tables being encoded, to detect cycles
	indent string
	budget budget
}

// encode: encode(value [, opts]) -> string. opts.indent (a string)
// pretty-prints. Raises on values JSON cannot represent, and past the
// data-nodes, data-depth and string-bytes limits.
func (m *jsonModule) encode(L *lua.LState) int {
	v := L.CheckAny(1)
	e := &jsonEncoder{L: L, buf: make([]byte, 0, 128), open: map[*lua.LTable]bool{}, budget: budget{L: L, limits: m.limits}}
	if opts := L.OptTable(2, nil); opts != nil {
		switch ind := opts.RawGetString("indent").(type) {
		case *lua.LNilType:
		case lua.LString:
			e.indent = string(ind)
		default:
			L.ArgError(2, "indent must be a string")
		}
	}
	err := e.encode(v, 0)
	if err == nil {
		err = e.budget.text(len(e.buf))
	}
	if err != nil {
		L.RaiseError("json.encode: %s", err.Error())
	}
	L.Push(lua.LString(e.buf))
	return 1
}

func (e *jsonEncoder) newline(depth int) {
	if e.indent == "" {
		return
	}
	e.buf = append(e.buf, '\n')
	for i := 0; i < depth; i++ {
		e.buf = append(e.buf, e.indent...)
	}
}

func (e *jsonEncoder) encode(v lua.LValue, depth int) error {
	if err := e.budget.visit(depth); err != nil {
		return err
	}
	if err := e.budget.text(len(e.buf)); err != nil {
		return err
	}
	switch v := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case lua.LNumber:
		return e.number(float64(v))
	case lua.LString:
		return e.string(string(v))
	case *lua.LUserData:
		if _, ok := v.Value.(jsonNull); ok {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return jsonErrorf("cannot encode a userdata")
	case *lua.LTable:
		return e.table(v, depth)
	default:
		return jsonErrorf("cannot encode a %s", v.Type().String())
	}
	return nil
}

// number writes f as encoding/json does: integers without a fraction or an
// exponent, other values in the shortest form that reads back exactly.
func (e *jsonEncoder) number(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return jsonErrorf("cannot encode %v (JSON has no NaN or infinity)", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(e.buf) - start
		if n >= 4 && e.buf[len(e.buf)-4] == 'e' && e.buf[len(e.buf)-3] == '-' && e.buf[len(e.buf)-2] == '0' {
			e.buf[len(e.buf)-2] = e.buf[len(e.buf)-1]
			e.buf = e.buf[:len(e.buf)-1]
		}
	}
	return nil
}

// string writes s as a JSON string. s must be valid UTF-8 (JSON text is
// Unicode; a binary string would be corrupted silently otherwise). < > & and
// U+2028/U+2029 are escaped so that the output is safe inside HTML <script>.
func (e *jsonEncoder) string(s string) error {
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return jsonErrorf("invalid UTF-8 in string at byte %d (encode binary data first, e.g. as hex)", i+1)
	}
	const hexdigits = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			e.buf = append(e.buf, s[start:i]...)
			switch c {
			case '"', '\\':
				e.buf = append(e.buf, '\\', c)
			case '\n':
				e.buf = append(e.buf, '\\', 'n')
			case '\r':
				e.buf = append(e.buf, '\\', 'r')
			case '\t':
				e.buf = append(e.buf, '\\', 't')
			default:
				e.buf = append(e.buf, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			e.buf = append(e.buf, s[start:i]...)
			e.buf = append(e.buf, '\\', 'u', '2', '0', '2', hexdigits[r&15])
			start = i + size
		}
		i += size
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
	return nil
}

// table writes t as an array when its keys are exactly 1..n, as an object
// when its keys are strings, and forced either way by a __jsontype
// metatable field. An empty table is [] unless marked as an object.
func (e *jsonEncoder) table(t *lua.LTable, depth int) error {
	if e.open[t] {
		return jsonErrorf("cannot encode a table that contains itself")
	}
	e.open[t] = true
	defer delete(e.open, t)

	forced := ""
	if mt, ok := t.Metatable.(*lua.LTable); ok {
		if s, ok := mt.RawGetString(jsonTypeField).(lua.LString); ok {
			forced = string(s)
		}
	}
	n, maxIndex, strings_, others := 0, 0, 0, 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n++
		switch k := k.(type) {
		case lua.LString:
			strings_++
		case lua.LNumber:
			if f := float64(k); f >= 1 && f == math.Trunc(f) && f <= math.MaxInt32 {
				maxIndex = max(maxIndex, int(f))
			} else {
				others++
			}
		default:
			others++
		}
	}
	ints := n - strings_ - others
	switch {
	case forced == "object" || (forced == "" && n > 0 && strings_ == n):
		if ints > 0 || others > 0 {
			return jsonErrorf("cannot encode an object with non-string keys")
		}
		return e.object(t, n, depth)
	case forced == "array" || forced == "" && n == 0:
		if n > 0 && (strings_ > 0 || others > 0) {
			return jsonErrorf("cannot encode an array with non-integer keys")
		}
		if maxIndex != n {
			return jsonErrorf("cannot encode a sparse array (%d values, largest index %d): use json.null for holes", n, maxIndex)
		}
		return e.array(t, n, depth)
	case strings_ > 0 && ints > 0:
		return jsonErrorf("cannot encode a table with both string keys and array items")
	case others > 0:
		return jsonErrorf("cannot encode a table with keys that are neither strings nor positive integers")
	case maxIndex != n:
		return jsonErrorf("cannot encode a sparse array (%d values, largest index %d): use json.null for holes", n, maxIndex)
	default:
		return e.array(t, n, depth)
	}
}

func (e *jsonEncoder) array(t *lua.LTable, n, depth int) error {
	e.buf = append(e.buf, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		if err := e.encode(t.RawGetInt(i), depth+1); err != nil {
			return jsonAt(err, "["+strconv.Itoa(i)+"]")
		}
	}
	if n > 0 {
		e.newline(depth)
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *jsonEncoder) object(t *lua.LTable, n, depth int) error {
	keys := make([]string, 0, n)
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		keys = append(keys, string(k.(lua.LString)))
	}
	sort.Strings(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		if err := e.string(k); err != nil {
			return jsonAt(err, "["+strconv.Quote(k)+"]")
		}
		e.buf = append(e.buf, ':')
		if e.indent != "" {
			e.buf = append(e.buf, ' ')
		}
		if err := e.encode(t.RawGetString(k), depth+1); err != nil {
			return jsonAt(err, "."+k)
		}
	}
	if len(keys) > 0 {
		e.newline(depth)
	}
	e.buf = append(e.buf, '}')
	return nil
}

// decode: decode(s) -> value. null becomes json.null, numbers become Lua
// numbers (float64: integers beyond 2^53 lose precision), an empty object
// becomes a table marked with json.object so that it encodes back as {}.
// Raises on invalid JSON, invalid UTF-8 and trailing data.
func (m *jsonModule) decode(L *lua.LState) int {
	s := checkLString(L, 1)
	if !utf8.ValidString(s) {
		L.RaiseError("json.decode: the text is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	d := &jsonDecoder{L: L, m: m, dec: dec, budget: budget{L: L, limits: m.limits}}
	v, err := d.value(0)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = fmt.Errorf("unexpected data after the top-level value at offset %d", dec.InputOffset())
		}
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			err = fmt.Errorf("%s at offset %d", se.Error(), se.Offset)
		} else if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("unexpected end of JSON input")
		}
		L.RaiseError("json.decode: %s", err.Error())
	}
	L.Push(v)
	return 1
}

// jsonDecoder builds Lua values from a token stream.
type jsonDecoder struct {
	L      *lua.LState
	m      *jsonModule
	dec    *json.Decoder
	budget budget
}

func (d *jsonDecoder) value(depth int) (lua.LValue, error) {
	if err := d.budget.visit(depth); err != nil {
		return nil, err
	}
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case nil:
		return d.m.null, nil
	case bool:
		return lua.LBool(tok), nil
	case float64:
		return lua.LNumber(tok), nil
	case string:
		return lua.LString(tok), nil
	case json.Delim:
		switch tok {
		case '[':
			t := d.L.NewTable()
			for d.dec.More() {
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				t.Append(v)
			}
			if _, err := d.dec.Token(); err != nil { // ]
				return nil, err
			}
			return t, nil
		case '{':
			t := d.L.NewTable()
			n := 0
			for d.dec.More() {
				k, err := d.dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				t.RawSetString(k.(string), v)
				n++
			}
			if _, err := d.dec.Token(); err != nil { // }
				return nil, err
			}
			if n == 0 {
				t.Metatable = d.m.objectMT
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
