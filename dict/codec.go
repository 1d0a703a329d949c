package dict

// This file encodes items as Redis strings: a type letter (s, n or b), the
// flags in decimal when they are not 0, a colon, then the payload: the
// string's bytes, the number in Go's shortest form, or 1 or 0. The incr
// script of redis.go reads and writes the same form.

import (
	"fmt"
	"strconv"
	"strings"
)

// encode returns the Redis form of it.
func encode(it Item) string {
	var b strings.Builder
	var payload string
	switch it.Value.Kind {
	case String:
		b.WriteByte('s')
		payload = it.Value.Str
	case Number:
		b.WriteByte('n')
		payload = strconv.FormatFloat(it.Value.Num, 'g', -1, 64)
	default:
		b.WriteByte('b')
		payload = "0"
		if it.Value.Bool() {
			payload = "1"
		}
	}
	b.Grow(12 + len(payload))
	if it.Flags != 0 {
		b.WriteString(strconv.FormatUint(uint64(it.Flags), 10))
	}
	b.WriteByte(':')
	b.WriteString(payload)
	return b.String()
}

// decode reads the Redis form of an item.
func decode(s string) (Item, error) {
	colon := strings.IndexByte(s, ':')
	if colon < 1 {
		return Item{}, fmt.Errorf("dict: not an encoded item: %.40q", s)
	}
	var it Item
	if colon > 1 {
		f, err := strconv.ParseUint(s[1:colon], 10, 32)
		if err != nil {
			return Item{}, fmt.Errorf("dict: bad flags in encoded item %.40q: %w", s, err)
		}
		it.Flags = uint32(f)
	}
	payload := s[colon+1:]
	switch s[0] {
	case 's':
		it.Value = StringValue(payload)
	case 'n':
		n, err := strconv.ParseFloat(payload, 64)
		if err != nil {
			return Item{}, fmt.Errorf("dict: bad number in encoded item %.40q: %w", s, err)
		}
		it.Value = NumberValue(n)
	case 'b':
		it.Value = BoolValue(payload == "1")
	default:
		return Item{}, fmt.Errorf("dict: unknown type %q in encoded item %.40q", s[0], s)
	}
	return it, nil
}
