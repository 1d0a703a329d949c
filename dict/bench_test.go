package dict

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lsgi/lsgi/internal/redistest"
)

// The memory store's operations, alone and from every CPU at once, beside
// a sync.Map doing the same reads and writes (no TTL, no LRU, no budget)
// as the reference of the same run.

func benchDict(b *testing.B, size int64) Dict {
	m := NewMemory(Options{})
	b.Cleanup(func() { m.Close() })
	d, err := m.Open("bench", "d", size)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

var benchKeys = func() []string {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("key-", i)
	}
	return keys
}()

func BenchmarkMemoryGet(b *testing.B) {
	ctx := context.Background()
	b.Run("dict", func(b *testing.B) {
		d := benchDict(b, 0)
		for _, k := range benchKeys {
			d.Store(ctx, OpSet, k, Item{Value: StringValue("value")}, 0)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok, _ := d.Get(ctx, benchKeys[i&1023]); !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("syncmap", func(b *testing.B) {
		var m sync.Map
		for _, k := range benchKeys {
			m.Store(k, "value")
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok := m.Load(benchKeys[i&1023]); !ok {
				b.Fatal("missing")
			}
		}
	})
}

func BenchmarkMemorySet(b *testing.B) {
	ctx := context.Background()
	b.Run("dict", func(b *testing.B) {
		d := benchDict(b, 0)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.Store(ctx, OpSet, benchKeys[i&1023], Item{Value: NumberValue(float64(i))}, 0)
		}
	})
	b.Run("syncmap", func(b *testing.B) {
		var m sync.Map
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m.Store(benchKeys[i&1023], float64(i))
		}
	})
}

// BenchmarkMemorySetEvicting writes into a full dictionary: every set
// evicts the least recently used item.
func BenchmarkMemorySetEvicting(b *testing.B) {
	ctx := context.Background()
	d := benchDict(b, 64<<10)
	value := StringValue(strings.Repeat("v", 500))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Store(ctx, OpSet, benchKeys[i&1023], Item{Value: value}, 0)
	}
}

// BenchmarkMemoryParallel mixes 90% gets and 10% sets over 1024 keys from
// every CPU.
func BenchmarkMemoryParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("dict", func(b *testing.B) {
		d := benchDict(b, 0)
		for _, k := range benchKeys {
			d.Store(ctx, OpSet, k, Item{Value: StringValue("value")}, 0)
		}
		var seq atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(1)) * 7919
			for pb.Next() {
				i++
				if i%10 == 0 {
					d.Store(ctx, OpSet, benchKeys[i&1023], Item{Value: StringValue("value")}, 0)
				} else {
					d.Get(ctx, benchKeys[i&1023])
				}
			}
		})
	})
	b.Run("syncmap", func(b *testing.B) {
		var m sync.Map
		for _, k := range benchKeys {
			m.Store(k, "value")
		}
		var seq atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(1)) * 7919
			for pb.Next() {
				i++
				if i%10 == 0 {
					m.Store(benchKeys[i&1023], "value")
				} else {
					m.Load(benchKeys[i&1023])
				}
			}
		})
	})
}

// BenchmarkMemoryIncrParallel increments one hot key from every CPU.
func BenchmarkMemoryIncrParallel(b *testing.B) {
	ctx := context.Background()
	d := benchDict(b, 0)
	init := 0.0
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Incr(ctx, "hot", 1, &init, 0)
		}
	})
}

// BenchmarkRedisIncr is one incr round trip to a local redis-server.
func BenchmarkRedisIncr(b *testing.B) {
	srv := redistest.Start(b)
	r, err := NewRedis(srv.URL(0), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	d, _ := r.Open("bench", "d", 0)
	ctx := context.Background()
	init := 0.0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := d.Incr(ctx, "n", 1, &init, 0); err != nil {
			b.Fatal(err)
		}
	}
}
