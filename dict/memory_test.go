package dict

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fill stores n items of about itemSize bytes each under keys k0, k1, ...
func fill(t *testing.T, d Dict, from, to int, value string) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := d.Store(context.Background(), OpSet, fmt.Sprint("k", i), Item{Value: StringValue(value)}, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func present(d Dict, key string) bool {
	_, ok, _ := d.Get(context.Background(), key)
	return ok
}

func TestLRUEviction(t *testing.T) {
	b := memoryBackend(t, Options{})
	d, err := b.store.Open("ns", "lru", 4096)
	if err != nil {
		t.Fatal(err)
	}
	value := strings.Repeat("v", 372) // 2 + 372 + 128 = 502 bytes with key "kN"
	fill(t, d, 0, 8, value)           // 4016 bytes: all fit
	for i := 0; i < 8; i++ {
		if !present(d, fmt.Sprint("k", i)) {
			t.Fatalf("k%d evicted before the dictionary was full", i)
		}
	}
	// Reading k0 makes k1 the least recently used.
	present(d, "k0")
	forcible, err := d.Store(context.Background(), OpSet, "k8", Item{Value: StringValue(value)}, 0)
	if err != nil || !forcible {
		t.Fatalf("set past the cap: forcible %v, err %v; want true, nil", forcible, err)
	}
	if present(d, "k1") {
		t.Fatal("k1, the least recently used, must be evicted")
	}
	for _, k := range []string{"k0", "k2", "k7", "k8"} {
		if !present(d, k) {
			t.Fatalf("%s was evicted instead of k1", k)
		}
	}
	m := d.(*memDict)
	if used := m.used.Load(); used > 4096 {
		t.Fatalf("used %d bytes, over the cap", used)
	}
	// A set that fits evicts nothing.
	if forcible, _ := d.Store(context.Background(), OpSet, "k8", Item{Value: StringValue("small")}, 0); forcible {
		t.Fatal("a smaller value needs no eviction")
	}
}

func TestEvictionPrefersExpired(t *testing.T) {
	b := memoryBackend(t, Options{})
	d, _ := b.store.Open("ns", "exp", 4096)
	value := strings.Repeat("v", 372)
	fill(t, d, 0, 6, value)
	// k6 expires; it is the most recently used, yet goes first.
	d.Store(context.Background(), OpSet, "k6", Item{Value: StringValue(value)}, time.Second)
	present(d, "k0")
	fill(t, d, 7, 8, value) // full now: 8 items
	b.advance(2 * time.Second)
	forcible, err := d.Store(context.Background(), OpSet, "k8", Item{Value: StringValue(value)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if forcible {
		t.Fatal("evicting an expired item is not forcible")
	}
	for i := 0; i <= 8; i++ {
		if want := i != 6; present(d, fmt.Sprint("k", i)) != want {
			t.Errorf("k%d present = %v, want %v", i, !want, want)
		}
	}
}

func TestSafeSet(t *testing.T) {
	b := memoryBackend(t, Options{})
	d, _ := b.store.Open("ns", "safe", 4096)
	value := strings.Repeat("v", 372)
	fill(t, d, 0, 8, value)
	ctx := context.Background()
	for _, op := range []Op{OpSafeSet, OpSafeAdd} {
		if _, err := d.Store(ctx, op, "k9", Item{Value: StringValue(value)}, 0); !errors.Is(err, ErrNoMemory) {
			t.Fatalf("%v on a full dictionary: %v, want ErrNoMemory", op, err)
		}
	}
	for i := 0; i < 8; i++ {
		if !present(d, fmt.Sprint("k", i)) {
			t.Fatalf("a safe op evicted k%d", i)
		}
	}
	// Replacing a value with one of the same size needs no room.
	if _, err := d.Store(ctx, OpSafeSet, "k0", Item{Value: StringValue(strings.Repeat("w", 372))}, 0); err != nil {
		t.Fatalf("safe_set of an existing key, same size: %v", err)
	}
	// Expired items make room.
	d.Expire(ctx, "k3", time.Second)
	b.advance(2 * time.Second)
	if _, err := d.Store(ctx, OpSafeAdd, "k9", Item{Value: StringValue(value)}, 0); err != nil {
		t.Fatalf("safe_add with an expired item to reclaim: %v", err)
	}
}

func TestResize(t *testing.T) {
	b := memoryBackend(t, Options{})
	d, _ := b.store.Open("ns", "r", 8192)
	fill(t, d, 0, 16, strings.Repeat("v", 372))
	if _, err := b.store.Open("ns", "r", 2048); err != nil {
		t.Fatal(err)
	}
	if d.Size() != 2048 {
		t.Fatalf("size %d after resize", d.Size())
	}
	keys, _ := d.Keys(context.Background(), 0)
	if len(keys) != 4 {
		t.Fatalf("%d keys after shrinking to 4 items' worth, want 4", len(keys))
	}
	for i := 12; i < 16; i++ {
		if !present(d, fmt.Sprint("k", i)) {
			t.Errorf("k%d, among the most recent, was evicted", i)
		}
	}
	// Reopening without a size keeps it.
	b.store.Open("ns", "r", 0)
	if d.Size() != 2048 {
		t.Fatalf("size %d after reopening", d.Size())
	}
}

func TestAccounting(t *testing.T) {
	b := memoryBackend(t, Options{})
	d, _ := b.store.Open("ns", "acc", 0)
	m := d.(*memDict)
	ctx := context.Background()
	d.Store(ctx, OpSet, "a", Item{Value: StringValue("12345")}, 0)
	if got, want := m.used.Load(), ItemSize("a", StringValue("12345")); got != want {
		t.Fatalf("used %d, want %d", got, want)
	}
	d.Store(ctx, OpSet, "a", Item{Value: StringValue("1")}, 0)
	d.Incr(ctx, "n", 1, num(0), time.Second)
	if got, want := m.used.Load(), ItemSize("a", StringValue("1"))+ItemSize("n", NumberValue(0)); got != want {
		t.Fatalf("used %d, want %d", got, want)
	}
	b.advance(2 * time.Second)
	if n, _ := d.FlushExpired(ctx, 0); n != 1 {
		t.Fatalf("flush_expired removed %d, want 1", n)
	}
	d.Delete(ctx, "a")
	if got := m.used.Load(); got != 0 {
		t.Fatalf("used %d after removing everything", got)
	}
	fill(t, d, 0, 50, "x")
	d.FlushAll(ctx)
	if got := m.used.Load(); got != 0 {
		t.Fatalf("used %d after flush_all", got)
	}
}

// TestConcurrentEviction writes, reads and evicts from many goroutines at
// once (run with -race): the budget holds and nothing deadlocks.
func TestConcurrentEviction(t *testing.T) {
	m := NewMemory(Options{})
	defer m.Close()
	d, _ := m.Open("ns", "busy", 16<<10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < 2000; i++ {
				k := fmt.Sprint("g", g, "-", i%300)
				switch i % 4 {
				case 0:
					d.Store(ctx, OpSet, k, Item{Value: StringValue(strings.Repeat("v", i%700))}, 0)
				case 1:
					d.Get(ctx, k)
				case 2:
					d.Incr(ctx, fmt.Sprint("c", i%10), 1, num(0), 0)
				case 3:
					d.Store(ctx, OpSafeAdd, k, Item{Value: NumberValue(1)}, time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	md := d.(*memDict)
	if used := md.used.Load(); used > md.size.Load() {
		t.Fatalf("used %d over the cap %d once the writers are done", used, md.size.Load())
	}
	var total, timed int64
	for i := range md.shards {
		for _, e := range md.shards[i].m {
			total += e.size
			if e.expires != 0 {
				timed++
			}
		}
	}
	if total != md.used.Load() {
		t.Fatalf("the items count %d bytes, the budget says %d", total, md.used.Load())
	}
	if timed != md.timed.Load() {
		t.Fatalf("%d items have an expiry, the count says %d", timed, md.timed.Load())
	}
}
