package dict

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsgi/lsgi/internal/redistest"
)

// backend is one Store under test, with a way to let time pass: the memory
// store's clock is moved by hand, Redis's passes for real.
type backend struct {
	name    string
	store   Store
	advance func(time.Duration)
}

// fakeClock is the memory store's clock in tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func memoryBackend(t *testing.T, opts Options) backend {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	opts.Now = clock.Now
	m := NewMemory(opts)
	t.Cleanup(func() { m.Close() })
	return backend{name: "memory", store: m, advance: clock.Advance}
}

func redisBackend(t *testing.T, opts Options, args ...string) (backend, *redistest.Server) {
	srv := redistest.Start(t, args...)
	r, err := NewRedis(srv.URL(1), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return backend{name: "redis", store: r, advance: time.Sleep}, srv
}

// backends returns both stores; Redis is left out (with a log line) when
// redis-server is not installed.
func backends(t *testing.T) []backend {
	bs := []backend{memoryBackend(t, Options{})}
	if redistest.Binary() == "" {
		t.Log("redis-server not installed (apt-get install redis-server): testing the memory store only")
		return bs
	}
	b, _ := redisBackend(t, Options{})
	return append(bs, b)
}

func num(f float64) *float64 { return &f }

// TestSemantics runs the same steps against both stores: each step is one
// operation and what it must give, in the manner of ngx.shared.DICT.
func TestSemantics(t *testing.T) {
	type step struct {
		desc string
		run  func(ctx context.Context, d Dict) (any, error)
		want any   // the result, compared with fmt's %v
		err  error // the error, compared with errors.Is
	}
	get := func(key string) func(context.Context, Dict) (any, error) {
		return func(ctx context.Context, d Dict) (any, error) {
			it, ok, err := d.Get(ctx, key)
			if !ok {
				return "absent", err
			}
			return fmt.Sprintf("%v/%d", it.Value, it.Flags), err
		}
	}
	store := func(op Op, key string, v Value, flags uint32, ttl time.Duration) func(context.Context, Dict) (any, error) {
		return func(ctx context.Context, d Dict) (any, error) {
			forcible, err := d.Store(ctx, op, key, Item{Value: v, Flags: flags}, ttl)
			return forcible, err
		}
	}
	incr := func(key string, delta float64, init *float64, ttl time.Duration) func(context.Context, Dict) (any, error) {
		return func(ctx context.Context, d Dict) (any, error) {
			n, _, err := d.Incr(ctx, key, delta, init, ttl)
			return n, err
		}
	}
	ttlOf := func(key string) func(context.Context, Dict) (any, error) {
		return func(ctx context.Context, d Dict) (any, error) {
			ttl, err := d.TTL(ctx, key)
			// Redis's clock runs while the test does: round to 100 ms.
			return ttl.Round(100 * time.Millisecond), err
		}
	}
	var advance func(time.Duration)
	wait := func(d time.Duration) func(context.Context, Dict) (any, error) {
		return func(context.Context, Dict) (any, error) { advance(d); return nil, nil }
	}
	steps := []step{
		{"get of an absent key", get("a"), "absent", nil},
		{"set a string", store(OpSet, "a", StringValue("x"), 0, 0), false, nil},
		{"get it", get("a"), `"x"/0`, nil},
		{"a number keeps its type", store(OpSet, "n", NumberValue(3), 0, 0), false, nil},
		{"get the number", get("n"), "3/0", nil},
		{"a string of digits stays a string", store(OpSet, "s3", StringValue("3"), 0, 0), false, nil},
		{"get the string", get("s3"), `"3"/0`, nil},
		{"a boolean", store(OpSet, "b", BoolValue(false), 0, 0), false, nil},
		{"get the boolean", get("b"), "false/0", nil},
		{"flags are kept", store(OpSet, "f", StringValue("v"), 42, 0), false, nil},
		{"get with flags", get("f"), `"v"/42`, nil},
		{"binary strings", store(OpSet, "bin", StringValue("a\x00b\xff:c"), 0, 0), false, nil},
		{"get the binary string", get("bin"), `"a\x00b\xff:c"/0`, nil},
		{"add an existing key", store(OpAdd, "a", StringValue("y"), 0, 0), false, ErrExists},
		{"the value is unchanged", get("a"), `"x"/0`, nil},
		{"add a new key", store(OpAdd, "new", StringValue("y"), 0, 0), false, nil},
		{"replace an absent key", store(OpReplace, "nope", StringValue("y"), 0, 0), false, ErrNotFound},
		{"nothing was stored", get("nope"), "absent", nil},
		{"replace an existing key", store(OpReplace, "a", NumberValue(1.5), 0, 0), false, nil},
		{"replaced", get("a"), "1.5/0", nil},
		{"incr an absent key without init", incr("c", 1, nil, 0), 0.0, ErrNotFound},
		{"incr with init", incr("c", 1, num(10), 0), 11.0, nil},
		{"incr again", incr("c", -2.5, num(10), 0), 8.5, nil},
		{"incr a string", incr("new", 1, num(0), 0), 0.0, ErrNotNumber},
		{"a number with flags", store(OpSet, "fn", NumberValue(5), 9, 0), false, nil},
		{"incr it", incr("fn", 1, nil, 0), 6.0, nil},
		{"incr keeps the flags", get("fn"), "6/9", nil},
		{"the counter reads as a number", get("c"), "8.5/0", nil},
		{"delete", func(ctx context.Context, d Dict) (any, error) { return nil, d.Delete(ctx, "c") }, nil, nil},
		{"deleted", get("c"), "absent", nil},
		{"delete an absent key", func(ctx context.Context, d Dict) (any, error) { return nil, d.Delete(ctx, "c") }, nil, nil},
		{"ttl of a key without expiry", ttlOf("a"), time.Duration(0), nil},
		{"ttl of an absent key", ttlOf("zz"), time.Duration(0), ErrNotFound},
		{"set with a ttl", store(OpSet, "t", StringValue("soon"), 0, 2*time.Second), false, nil},
		{"ttl of it", ttlOf("t"), 2 * time.Second, nil},
		{"expire an absent key", func(ctx context.Context, d Dict) (any, error) { return nil, d.Expire(ctx, "zz", time.Second) }, nil, ErrNotFound},
		{"expire shortens the ttl", func(ctx context.Context, d Dict) (any, error) { return nil, d.Expire(ctx, "t", 300*time.Millisecond) }, nil, nil},
		{"incr with init_ttl", incr("tc", 1, num(0), 300*time.Millisecond), 1.0, nil},
		{"incr keeps the ttl", incr("tc", 1, num(0), 0), 2.0, nil},
		{"expire 0 makes a key permanent", func(ctx context.Context, d Dict) (any, error) { return nil, d.Expire(ctx, "new", 0) }, nil, nil},
		{"set with a ttl again", store(OpSet, "new", StringValue("z"), 0, 300*time.Millisecond), false, nil},
		{"expire 0 drops the ttl", func(ctx context.Context, d Dict) (any, error) { return nil, d.Expire(ctx, "new", 0) }, nil, nil},
		{"the ttl is gone", ttlOf("new"), time.Duration(0), nil},
		{"before the expiry", get("t"), `"soon"/0`, nil},
		{"time passes", wait(450 * time.Millisecond), nil, nil},
		{"expired", get("t"), "absent", nil},
		{"the counter expired", get("tc"), "absent", nil},
		{"ttl of an expired key", ttlOf("t"), time.Duration(0), ErrNotFound},
		{"expire an expired key", func(ctx context.Context, d Dict) (any, error) { return nil, d.Expire(ctx, "t", time.Second) }, nil, ErrNotFound},
		{"replace an expired key", store(OpReplace, "t", StringValue("y"), 0, 0), false, ErrNotFound},
		{"add over an expired key", store(OpAdd, "tc", StringValue("again"), 0, 0), false, nil},
		{"the permanent key stays", get("new"), `"z"/0`, nil},
		{"an empty key", get(""), "absent", ErrInvalid},
		{"a key too long", get(strings.Repeat("k", MaxKeyLen+1)), "absent", ErrInvalid},
		{"a value larger than the dictionary", store(OpSet, "big", StringValue(strings.Repeat("v", DefaultSize)), 0, 0), false, ErrTooLarge},
		{"nothing stored", get("big"), "absent", nil},
		{"a number that is not finite", store(OpSet, "inf", NumberValue(inf()), 0, 0), false, ErrInvalid},
		{"a negative ttl", store(OpSet, "neg", StringValue("x"), 0, -time.Second), false, ErrInvalid},
		{"keys", func(ctx context.Context, d Dict) (any, error) {
			keys, err := d.Keys(ctx, 0)
			slices.Sort(keys)
			return strings.Join(keys, ","), err
		}, "a,b,bin,f,fn,n,new,s3,tc", nil},
		{"keys, at most 3", func(ctx context.Context, d Dict) (any, error) {
			keys, err := d.Keys(ctx, 3)
			return len(keys), err
		}, 3, nil},
		{"flush_all", func(ctx context.Context, d Dict) (any, error) { return nil, d.FlushAll(ctx) }, nil, nil},
		{"no keys left", func(ctx context.Context, d Dict) (any, error) {
			keys, err := d.Keys(ctx, 0)
			return len(keys), err
		}, 0, nil},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			advance = b.advance
			d, err := b.store.Open(AppNamespace("app"), "semantics", 0)
			if err != nil {
				t.Fatal(err)
			}
			if d.Size() != DefaultSize || d.Name() != "semantics" {
				t.Fatalf("size %d, name %q", d.Size(), d.Name())
			}
			ctx := context.Background()
			for i, s := range steps {
				got, err := s.run(ctx, d)
				if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
					t.Fatalf("step %d, %s: error %v, want %v", i, s.desc, err, s.err)
				}
				if s.want != nil && fmt.Sprint(got) != fmt.Sprint(s.want) {
					t.Fatalf("step %d, %s: got %v, want %v", i, s.desc, got, s.want)
				}
			}
		})
	}
}

func inf() float64 { var zero float64; return 1 / zero }

// TestNamespaces checks that dictionaries of the same name in two
// namespaces, and two dictionaries of one namespace, are apart, and that a
// namespace holds a bounded number of dictionaries.
func TestNamespaces(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			a, _ := b.store.Open(AppNamespace("a"), "d", 0)
			bb, _ := b.store.Open(AppNamespace("b"), "d", 0)
			other, _ := b.store.Open(AppNamespace("a"), "e", 0)
			g, _ := b.store.Open(GlobalNamespace, "d", 0)
			for i, d := range []Dict{a, bb, other, g} {
				if _, err := d.Store(ctx, OpSet, "k", Item{Value: NumberValue(float64(i))}, 0); err != nil {
					t.Fatal(err)
				}
			}
			for i, d := range []Dict{a, bb, other, g} {
				it, ok, err := d.Get(ctx, "k")
				if err != nil || !ok || it.Value.Num != float64(i) {
					t.Errorf("dictionary %d: %v %v %v", i, it, ok, err)
				}
			}
			again, err := b.store.Open(AppNamespace("a"), "d", 0)
			if err != nil {
				t.Fatal(err)
			}
			if it, _, _ := again.Get(ctx, "k"); it.Value.Num != 0 {
				t.Errorf("reopening gave another dictionary: %v", it)
			}
			for _, bad := range []string{"", "a:b", "a b", "a*", strings.Repeat("x", 65)} {
				if _, err := b.store.Open(AppNamespace("a"), bad, 0); !errors.Is(err, ErrInvalid) {
					t.Errorf("Open(%q) = %v, want ErrInvalid", bad, err)
				}
			}
			if _, err := b.store.Open(AppNamespace("a"), "small", 100); !errors.Is(err, ErrInvalid) {
				t.Errorf("a size below MinSize: %v", err)
			}
		})
	}
}

func TestMaxDicts(t *testing.T) {
	b := memoryBackend(t, Options{MaxDicts: 3})
	bs := []backend{b}
	if redistest.Binary() != "" {
		rb, _ := redisBackend(t, Options{MaxDicts: 3})
		bs = append(bs, rb)
	}
	for _, b := range bs {
		t.Run(b.name, func(t *testing.T) {
			for i := 0; i < 3; i++ {
				if _, err := b.store.Open("ns", fmt.Sprint("d", i), 0); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.store.Open("ns", "d0", 0); err != nil {
				t.Fatalf("reopening an existing dictionary: %v", err)
			}
			_, err := b.store.Open("ns", "d3", 0)
			if !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "3 dictionaries") {
				t.Fatalf("a fourth dictionary: %v", err)
			}
			if _, err := b.store.Open("other", "d3", 0); err != nil {
				t.Fatalf("another namespace has its own limit: %v", err)
			}
		})
	}
}

// TestConcurrentIncr: 8 goroutines x 1000 incr on one key give exactly 8000.
func TestConcurrentIncr(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			d, err := b.store.Open(AppNamespace("app"), "hits", 0)
			if err != nil {
				t.Fatal(err)
			}
			const workers, each = 8, 1000
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						if _, _, err := d.Incr(context.Background(), "n", 1, num(0), 0); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			it, _, err := d.Get(context.Background(), "n")
			if err != nil || it.Value.Num != workers*each {
				t.Fatalf("counter = %v (%v), want %d", it.Value, err, workers*each)
			}
		})
	}
}

// TestClosed: after Close, operations fail with ErrClosed.
func TestClosed(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			d, _ := b.store.Open("ns", "d", 0)
			if err := b.store.Close(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.Get(context.Background(), "k"); !errors.Is(err, ErrClosed) {
				t.Errorf("Get after Close: %v", err)
			}
			if _, err := b.store.Open("ns", "d", 0); !errors.Is(err, ErrClosed) {
				t.Errorf("Open after Close: %v", err)
			}
			if err := b.store.Close(); err != nil {
				t.Errorf("a second Close: %v", err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want int64
		ok   bool
	}{
		{"bytes", "65536", 65536, true},
		{"kibibytes", "512k", 512 << 10, true},
		{"mebibytes, upper case", "10M", 10 << 20, true},
		{"gibibytes with b", "1gb", 1 << 30, true},
		{"spaces", " 2m ", 2 << 20, true},
		{"empty", "", 0, false},
		{"zero", "0", 0, false},
		{"negative", "-1k", 0, false},
		{"a fraction", "1.5m", 0, false},
		{"an unknown unit", "3t", 0, false},
		{"overflow", "9999999999999g", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: ParseSize(%q) = %d, %v", tt.desc, tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v is not ErrInvalid", tt.desc, err)
		}
	}
}

func TestCodec(t *testing.T) {
	tests := []struct {
		desc string
		it   Item
		enc  string
	}{
		{"a string", Item{Value: StringValue("héllo:x")}, "s:héllo:x"},
		{"an empty string", Item{Value: StringValue("")}, "s:"},
		{"a number", Item{Value: NumberValue(0.1)}, "n:0.1"},
		{"a large number", Item{Value: NumberValue(1e21)}, "n:1e+21"},
		{"an integer", Item{Value: NumberValue(-42)}, "n:-42"},
		{"true", Item{Value: BoolValue(true)}, "b:1"},
		{"false with flags", Item{Value: BoolValue(false), Flags: 7}, "b7:0"},
		{"the largest flags", Item{Value: StringValue("x"), Flags: 1<<32 - 1}, "s4294967295:x"},
	}
	for _, tt := range tests {
		enc := encode(tt.it)
		if enc != tt.enc {
			t.Errorf("%s: encode = %q, want %q", tt.desc, enc, tt.enc)
		}
		back, err := decode(enc)
		if err != nil || back != tt.it {
			t.Errorf("%s: decode(%q) = %v, %v", tt.desc, enc, back, err)
		}
	}
	for _, bad := range []string{"", "x", ":x", "q:1", "nx:1", "n:abc", "s99999999999:x"} {
		if _, err := decode(bad); err == nil {
			t.Errorf("decode(%q) must fail", bad)
		}
	}
}
