package dict

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a stored [Value].
type Kind uint8

// The kinds of values a dictionary stores.
const (
	String Kind = iota + 1 // String is a Lua string (any bytes).
	Number                 // Number is a Lua number (a float64).
	Bool                   // Bool is a Lua boolean.
)

// Value is one stored value: a string, a number or a boolean. Numbers keep
// their type: a number stored is a number read back.
type Value struct {
	Kind Kind
	Str  string  // the bytes of a String
	Num  float64 // the number of a Number; 1 or 0 for a Bool
}

// StringValue returns the Value of the string s.
func StringValue(s string) Value { return Value{Kind: String, Str: s} }

// NumberValue returns the Value of the number n.
func NumberValue(n float64) Value { return Value{Kind: Number, Num: n} }

// BoolValue returns the Value of the boolean b.
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: Bool, Num: 1}
	}
	return Value{Kind: Bool}
}

// Bool returns the boolean of a Bool value.
func (v Value) Bool() bool { return v.Num != 0 }

// String returns the value as text, for messages and tests.
func (v Value) String() string {
	switch v.Kind {
	case String:
		return strconv.Quote(v.Str)
	case Number:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(v.Bool())
	}
	return "<no value>"
}

// size is the number of bytes the value counts against its dictionary.
func (v Value) size() int64 {
	if v.Kind == String {
		return int64(len(v.Str))
	}
	return 8
}

// Item is a value with its user flags (OpenResty's flags: a number the app
// stores with the value and reads back with it; 0 when unused).
type Item struct {
	Value Value
	Flags uint32
}

// Op selects how [Dict.Store] writes.
type Op uint8

// The write operations of ngx.shared.DICT.
const (
	// OpSet stores the item whatever is there, evicting least recently
	// used items if there is no room.
	OpSet Op = iota
	// OpSafeSet is OpSet that fails with ErrNoMemory instead of evicting
	// items that have not expired.
	OpSafeSet
	// OpAdd stores the item only if the key is absent (or expired), else
	// fails with ErrExists.
	OpAdd
	// OpSafeAdd is OpAdd that fails with ErrNoMemory instead of evicting.
	OpSafeAdd
	// OpReplace stores the item only if the key is present, else fails
	// with ErrNotFound.
	OpReplace
)

// String returns the name of the Lua method that performs op ("safe_add").
func (op Op) String() string {
	switch op {
	case OpSet:
		return "set"
	case OpSafeSet:
		return "safe_set"
	case OpAdd:
		return "add"
	case OpSafeAdd:
		return "safe_add"
	case OpReplace:
		return "replace"
	}
	return "op" + strconv.Itoa(int(op))
}

// safe reports whether op must not evict items that have not expired.
func (op Op) safe() bool { return op == OpSafeSet || op == OpSafeAdd }

// Errors of the dictionary operations. They are returned wrapped; test them
// with errors.Is.
var (
	// ErrNotFound: the key is absent or expired (replace, incr without an
	// initial value, ttl, expire).
	ErrNotFound = errors.New("dict: not found")
	// ErrExists: add found the key present.
	ErrExists = errors.New("dict: exists")
	// ErrNotNumber: incr found a value that is not a number.
	ErrNotNumber = errors.New("dict: not a number")
	// ErrNoMemory: a safe_set or safe_add found no room without evicting
	// items that have not expired (or Redis refused the write: its
	// maxmemory is reached and its policy evicts nothing).
	ErrNoMemory = errors.New("dict: no memory")
	// ErrTooLarge: the item is larger than the whole dictionary.
	ErrTooLarge = errors.New("dict: item larger than the dictionary")
	// ErrTooMany: a namespace already holds the most dictionaries it may.
	ErrTooMany = errors.New("dict: too many dictionaries")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("dict: store closed")
	// ErrInvalid: a bad name, key, size, number or duration.
	ErrInvalid = errors.New("dict: invalid argument")
)

// Store holds named dictionaries in namespaces. See the package
// documentation for the two implementations.
type Store interface {
	// Open returns the dictionary name of namespace ns, creating it on
	// first use. A positive size sets its size in bytes (a smaller size
	// than before evicts at once); 0 keeps the size it has, or gives a
	// new dictionary the store's default size.
	Open(ns, name string, size int64) (Dict, error)
	// Close releases the store. Dictionaries opened from it fail with
	// ErrClosed afterwards (the memory store drops its data).
	Close() error
}

// Dict is one dictionary. Every method is atomic with respect to the
// others. A ctx bounds the operations that talk to a server (Redis); the
// memory store never blocks on anything but its own short locks.
//
// A time to live of 0 means the item never expires; a positive one is
// kept to the millisecond (a shorter positive one counts as 1 ms).
type Dict interface {
	// Name returns the dictionary's name.
	Name() string
	// Size returns the dictionary's size in bytes.
	Size() int64
	// Get returns the item of key; ok is false when it is absent or
	// expired. Get counts as a use for LRU eviction.
	Get(ctx context.Context, key string) (it Item, ok bool, err error)
	// Store writes the item of key as op says, with the time to live ttl.
	// forcible is true when items that had not expired were evicted to
	// make room.
	Store(ctx context.Context, op Op, key string, it Item, ttl time.Duration) (forcible bool, err error)
	// Incr adds delta to the number of key and returns the result. An
	// absent key fails with ErrNotFound unless init is given: then the key
	// is created as init+delta, with the time to live initTTL. An existing
	// key keeps its time to live and flags.
	Incr(ctx context.Context, key string, delta float64, init *float64, initTTL time.Duration) (n float64, forcible bool, err error)
	// Delete removes key; an absent key is no error.
	Delete(ctx context.Context, key string) error
	// TTL returns the time key has left: 0 when it never expires,
	// ErrNotFound when it is absent or expired.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Expire sets the time to live of key (0: never expires); ErrNotFound
	// when it is absent or expired.
	Expire(ctx context.Context, key string, ttl time.Duration) error
	// FlushAll removes every item.
	FlushAll(ctx context.Context) error
	// FlushExpired removes at most max expired items (every one when max
	// is 0) and returns how many it removed.
	FlushExpired(ctx context.Context, max int) (int, error)
	// Keys returns at most max keys that have not expired (every one when
	// max is 0), in no particular order.
	Keys(ctx context.Context, max int) ([]string, error)
}

// Options configure a store. The zero value of each field works.
type Options struct {
	// DefaultSize is the size of a dictionary opened without one. The
	// default is 1 MiB.
	DefaultSize int64
	// MaxDicts bounds the dictionaries of one namespace, so that an app
	// cannot make memory grow without end by making dictionaries. The
	// default is 64.
	MaxDicts int
	// Now is the clock of the memory store's expiry, for tests; nil means
	// time.Now. Redis keeps its own time.
	Now func() time.Time
}

// DefaultSize is the size of a dictionary opened without one.
const DefaultSize = 1 << 20

// DefaultMaxDicts bounds the dictionaries of one namespace by default.
const DefaultMaxDicts = 64

// MinSize is the smallest dictionary size accepted.
const MinSize = 1 << 10

// MaxKeyLen is the longest key accepted, in bytes (OpenResty's limit).
const MaxKeyLen = 65535

// ItemOverhead is what each item counts against its dictionary besides its
// key and value: the memory store's entry, map slot and list links.
const ItemOverhead = 128

func (o Options) withDefaults() Options {
	if o.DefaultSize <= 0 {
		o.DefaultSize = DefaultSize
	}
	if o.MaxDicts <= 0 {
		o.MaxDicts = DefaultMaxDicts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// GlobalNamespace holds the dictionaries every app may use (those the
// operator declares host-wide).
const GlobalNamespace = "g"

// AppNamespace returns the namespace of the dictionaries of app.
func AppNamespace(app string) string { return "a:" + app }

// ItemSize returns the bytes an item of key and v counts against its
// dictionary.
func ItemSize(key string, v Value) int64 {
	return int64(len(key)) + v.size() + ItemOverhead
}

// CheckName returns an ErrInvalid error unless name is a valid dictionary
// name.
func CheckName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: a dictionary name has 1 to 64 characters, not %d", ErrInvalid, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%w: dictionary name %q: only letters, digits, '_', '-' and '.' are allowed", ErrInvalid, name)
		}
	}
	return nil
}

// checkKey returns an ErrInvalid error unless key is a valid key.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalid)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key of %d bytes (at most %d)", ErrInvalid, len(key), MaxKeyLen)
	}
	return nil
}

// checkValue refuses values no backend can keep the same: numbers that are
// not finite.
func checkValue(v Value) error {
	switch v.Kind {
	case String, Bool:
		return nil
	case Number:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return fmt.Errorf("%w: %v is not a finite number", ErrInvalid, v.Num)
		}
		return nil
	}
	return fmt.Errorf("%w: value of unknown kind %d", ErrInvalid, v.Kind)
}

// checkTTL refuses a negative time to live.
func checkTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: negative time to live %v", ErrInvalid, ttl)
	}
	return nil
}

// tooLarge returns the ErrTooLarge error for an item of size bytes.
func tooLarge(d string, size, limit int64) error {
	return fmt.Errorf("%w: an item of %d bytes (key, value and %d bytes of bookkeeping) does not fit in dictionary %q of %d bytes",
		ErrTooLarge, size, ItemOverhead, d, limit)
}

// ParseSize reads a size as lua_shared_dict writes it: a number of bytes,
// optionally followed by k, m or g (powers of 1024; upper case too, and an
// optional trailing b: "10m", "512K", "1gb", "65536").
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%w: size %q: want a positive number of bytes, optionally followed by k, m or g", ErrInvalid, s)
	}
	return n * mult, nil
}

// checkSize refuses a dictionary size below MinSize.
func checkSize(size int64) error {
	if size < 0 {
		return fmt.Errorf("%w: negative size %d", ErrInvalid, size)
	}
	if size != 0 && size < MinSize {
		return fmt.Errorf("%w: size %d bytes is below the smallest dictionary, %d bytes", ErrInvalid, size, MinSize)
	}
	return nil
}

// ttlMillis rounds a positive time to live up to whole milliseconds, the
// resolution both backends keep.
func ttlMillis(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}
