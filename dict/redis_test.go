package dict

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisKeyLayout(t *testing.T) {
	b, srv := redisBackend(t, Options{})
	ctx := context.Background()
	d, _ := b.store.Open(AppNamespace("app"), "d", 0)
	d.Store(ctx, OpSet, "k", Item{Value: StringValue("v"), Flags: 3}, time.Minute)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: 1})
	defer raw.Close()
	got, err := raw.Get(ctx, "lsgi:a:app:d:k").Result()
	if err != nil || got != "s3:v" {
		t.Fatalf("raw value %q, %v; want %q", got, err, "s3:v")
	}
	if ttl := raw.TTL(ctx, "lsgi:a:app:d:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("raw TTL %v", ttl)
	}
	// A value another program wrote in the dictionary's key space.
	raw.Set(ctx, "lsgi:a:app:d:foreign", "hello", 0)
	if _, _, err := d.Get(ctx, "foreign"); err == nil || !strings.Contains(err.Error(), "lsgi:a:app:d:foreign") {
		t.Fatalf("a foreign value must give an error naming its key, got %v", err)
	}
	if _, _, err := d.Incr(ctx, "foreign", 1, nil, 0); !errors.Is(err, ErrNotNumber) {
		t.Fatalf("incr of a foreign value: %v", err)
	}
}

// TestRedisScan: keys and flush_all see every key of the dictionary, and
// only those, however many batches SCAN takes.
func TestRedisScan(t *testing.T) {
	b, _ := redisBackend(t, Options{})
	ctx := context.Background()
	d, _ := b.store.Open(AppNamespace("a"), "d", 0)
	d2, _ := b.store.Open(AppNamespace("a"), "d2", 0)
	other, _ := b.store.Open(AppNamespace("ab"), "d", 0)
	for i := 0; i < 2500; i++ {
		d.Store(ctx, OpSet, fmt.Sprint("k", i), Item{Value: NumberValue(float64(i))}, 0)
	}
	d2.Store(ctx, OpSet, "x", Item{Value: NumberValue(1)}, 0)
	other.Store(ctx, OpSet, "y", Item{Value: NumberValue(1)}, 0)
	d.Store(ctx, OpSet, "*[?", Item{Value: NumberValue(1)}, 0)
	keys, err := d.Keys(ctx, 0)
	if err != nil || len(keys) != 2501 {
		t.Fatalf("%d keys, %v; want 2501", len(keys), err)
	}
	if !slices.Contains(keys, "*[?") || !slices.Contains(keys, "k2499") {
		t.Fatal("keys misses some")
	}
	if keys, _ := d.Keys(ctx, 10); len(keys) != 10 {
		t.Fatalf("keys(10) gave %d", len(keys))
	}
	if err := d.FlushAll(ctx); err != nil {
		t.Fatal(err)
	}
	if keys, _ := d.Keys(ctx, 0); len(keys) != 0 {
		t.Fatalf("%d keys left after flush_all", len(keys))
	}
	for _, o := range []Dict{d2, other} {
		if keys, _ := o.Keys(ctx, 0); len(keys) != 1 {
			t.Fatalf("flush_all of d removed keys of %s: %v", o.Name(), keys)
		}
	}
}

// TestRedisGone: a server that stops gives errors at once; a server that
// hangs gives errors at the context's deadline; a server back again
// serves again.
func TestRedisGone(t *testing.T) {
	b, srv := redisBackend(t, Options{})
	d, _ := b.store.Open(AppNamespace("a"), "d", 0)
	ctx := context.Background()
	if _, _, err := d.Incr(ctx, "n", 1, num(0), 0); err != nil {
		t.Fatal(err)
	}

	srv.Pause()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	_, _, err := d.Incr(short, "n", 1, num(0), 0)
	cancel()
	if err == nil {
		t.Fatal("incr on a hung server must fail")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("incr on a hung server took %v, past its 300ms deadline", took)
	}
	srv.Resume()

	srv.Stop()
	short, cancel = context.WithTimeout(ctx, 5*time.Second)
	_, _, err = d.Get(short, "n")
	cancel()
	if err == nil || !strings.Contains(err.Error(), srv.Addr) {
		t.Fatalf("get on a stopped server: %v; want an error naming the server", err)
	}

	srv.Restart()
	var n float64
	for i := 0; i < 50; i++ { // the pool may hold connections to the old process
		if n, _, err = d.Incr(ctx, "n", 1, num(0), 0); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || n != 1 {
		t.Fatalf("after a restart (with no data): %v, %v", n, err)
	}
}

func TestRedisNoMemory(t *testing.T) {
	b, _ := redisBackend(t, Options{}, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
	d, _ := b.store.Open(AppNamespace("a"), "d", 0)
	ctx := context.Background()
	value := strings.Repeat("v", 100<<10)
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, err = d.Store(ctx, OpSet, fmt.Sprint("k", i), Item{Value: StringValue(value)}, 0)
	}
	if !errors.Is(err, ErrNoMemory) {
		t.Fatalf("filling a noeviction Redis: %v, want ErrNoMemory", err)
	}
	if _, err := d.Store(ctx, OpSafeSet, "more", Item{Value: StringValue(value)}, 0); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("safe_set: %v", err)
	}
}

func TestRedisURL(t *testing.T) {
	for _, bad := range []string{"http://x", "redis://host:notaport/0", "redis://h/0?nonsense=1"} {
		if _, err := NewRedis(bad, Options{}, nil); err == nil {
			t.Errorf("NewRedis(%q) must fail", bad)
		}
	}
	_, err := NewRedis("redis://user:hunter2@h:1/x", Options{}, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL's error must not show its password: %v", err)
	}
}
