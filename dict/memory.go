package dict

// This file is the in-memory store: each dictionary is shardCount shards,
// each a map and an LRU list under its own lock, sharing one byte budget.
// Eviction takes the least recently used item of the whole dictionary: each
// use stamps its item with a tick of the dictionary's clock, each shard
// publishes the tick of its oldest item, and the evictor picks the shard
// with the oldest one.

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the in-memory [Store]. Its dictionaries live as long as it
// does: across app reloads, not across host restarts.
type Memory struct {
	opts Options
	seed maphash.Seed

	mu     sync.Mutex
	dicts  map[nsName]*memDict
	count  map[string]int // dictionaries per namespace
	closed bool
}

type nsName struct{ ns, name string }

// NewMemory returns an empty in-memory store.
func NewMemory(opts Options) *Memory {
	return &Memory{
		opts:  opts.withDefaults(),
		seed:  maphash.MakeSeed(),
		dicts: map[nsName]*memDict{},
		count: map[string]int{},
	}
}

// Open implements [Store].
func (m *Memory) Open(ns, name string, size int64) (Dict, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := checkSize(size); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	k := nsName{ns, name}
	d := m.dicts[k]
	if d == nil {
		if m.count[ns] >= m.opts.MaxDicts {
			return nil, fmt.Errorf("%w: %d dictionaries already (the limit); dictionary %q not made", ErrTooMany, m.count[ns], name)
		}
		if size == 0 {
			size = m.opts.DefaultSize
		}
		d = newMemDict(name, size, m.opts.Now, m.seed)
		m.dicts[k] = d
		m.count[ns]++
		return d, nil
	}
	if size > 0 && size != d.size.Load() {
		d.size.Store(size)
		d.evict()
	}
	return d, nil
}

// Close drops every dictionary's data; later operations fail with
// ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, d := range m.dicts {
		d.closed.Store(true)
		_ = d.FlushAll(context.Background())
	}
	m.dicts = nil
	return nil
}

// shardCount is the number of shards of a dictionary (a power of two).
const shardCount = 16

// victimScan is how many items from the LRU end eviction looks at for an
// expired one before it evicts the oldest live one (OpenResty looks at a
// few too: expired items go first).
const victimScan = 8

// noTick is the oldest tick of an empty shard.
const noTick = math.MaxUint64

type memDict struct {
	name   string
	now    func() time.Time
	seed   maphash.Seed
	size   atomic.Int64  // the cap, in bytes
	used   atomic.Int64  // bytes counted by the items
	timed  atomic.Int64  // items with an expiry time
	clock  atomic.Uint64 // LRU ticks
	closed atomic.Bool
	shards [shardCount]shard
}

type shard struct {
	mu         sync.Mutex
	m          map[string]*entry
	head, tail *entry        // most and least recently used
	oldest     atomic.Uint64 // tail's tick, noTick when empty
	_          [24]byte      // keeps neighbouring shards' locks off one cache line
}

type entry struct {
	key        string
	it         Item
	expires    int64 // Unix nanoseconds; 0: never
	size       int64
	tick       uint64
	prev, next *entry
}

func newMemDict(name string, size int64, now func() time.Time, seed maphash.Seed) *memDict {
	d := &memDict{name: name, now: now, seed: seed}
	d.size.Store(size)
	for i := range d.shards {
		d.shards[i].m = map[string]*entry{}
		d.shards[i].oldest.Store(noTick)
	}
	return d
}

func (d *memDict) Name() string { return d.name }
func (d *memDict) Size() int64  { return d.size.Load() }

func (d *memDict) shard(key string) *shard {
	return &d.shards[maphash.String(d.seed, key)&(shardCount-1)]
}

// expiry returns the expiry time of an item stored now with ttl.
func (d *memDict) expiry(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return d.now().UnixNano() + ttlMillis(ttl)*int64(time.Millisecond)
}

func (d *memDict) check(key string) error {
	if d.closed.Load() {
		return ErrClosed
	}
	return checkKey(key)
}

// Get implements [Dict].
func (d *memDict) Get(_ context.Context, key string) (Item, bool, error) {
	if err := d.check(key); err != nil {
		return Item{}, false, err
	}
	s := d.shard(key)
	s.mu.Lock()
	e := s.live(d, key)
	if e == nil {
		s.mu.Unlock()
		return Item{}, false, nil
	}
	s.touch(d, e)
	it := e.it
	s.mu.Unlock()
	return it, true, nil
}

// Store implements [Dict].
func (d *memDict) Store(ctx context.Context, op Op, key string, it Item, ttl time.Duration) (bool, error) {
	if err := d.check(key); err != nil {
		return false, err
	}
	if err := checkValue(it.Value); err != nil {
		return false, err
	}
	if err := checkTTL(ttl); err != nil {
		return false, err
	}
	size := ItemSize(key, it.Value)
	if limit := d.size.Load(); size > limit {
		return false, tooLarge(d.name, size, limit)
	}
	for attempt := 0; ; attempt++ {
		stored, err := d.store(op, key, it, ttl, size)
		if err != nil {
			return false, err
		}
		if stored {
			// A safe op found room and never evicts.
			return !op.safe() && d.evict(), nil
		}
		// A safe op found no room: expired items may make some.
		if attempt == 1 {
			return false, ErrNoMemory
		}
		if _, err := d.FlushExpired(ctx, 0); err != nil {
			return false, err
		}
	}
}

// store writes under the shard's lock. It reports false, and writes
// nothing, when a safe op finds no room.
func (d *memDict) store(op Op, key string, it Item, ttl time.Duration, size int64) (bool, error) {
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(d, key)
	switch op {
	case OpAdd, OpSafeAdd:
		if e != nil {
			return false, ErrExists
		}
	case OpReplace:
		if e == nil {
			return false, ErrNotFound
		}
	}
	delta := size
	if e != nil {
		delta -= e.size
	}
	if op.safe() && delta > 0 && d.used.Load()+delta > d.size.Load() {
		return false, nil
	}
	if e == nil {
		e = &entry{key: key}
		s.m[key] = e
		s.pushFront(d, e)
	} else {
		s.touch(d, e)
	}
	e.it, e.size = it, size
	s.setExpiry(d, e, d.expiry(ttl))
	d.used.Add(delta)
	return true, nil
}

// Incr implements [Dict].
func (d *memDict) Incr(_ context.Context, key string, delta float64, init *float64, initTTL time.Duration) (float64, bool, error) {
	if err := d.check(key); err != nil {
		return 0, false, err
	}
	if err := checkValue(NumberValue(delta)); err != nil {
		return 0, false, err
	}
	if init != nil {
		if err := checkValue(NumberValue(*init)); err != nil {
			return 0, false, err
		}
	}
	if err := checkTTL(initTTL); err != nil {
		return 0, false, err
	}
	s := d.shard(key)
	s.mu.Lock()
	e := s.live(d, key)
	if e != nil {
		if e.it.Value.Kind != Number {
			s.mu.Unlock()
			return 0, false, ErrNotNumber
		}
		e.it.Value.Num += delta
		n := e.it.Value.Num
		s.touch(d, e)
		s.mu.Unlock()
		return n, false, nil
	}
	if init == nil {
		s.mu.Unlock()
		return 0, false, ErrNotFound
	}
	n := *init + delta
	size := ItemSize(key, NumberValue(n))
	if limit := d.size.Load(); size > limit {
		s.mu.Unlock()
		return 0, false, tooLarge(d.name, size, limit)
	}
	e = &entry{key: key, it: Item{Value: NumberValue(n)}, size: size}
	s.m[key] = e
	s.pushFront(d, e)
	s.setExpiry(d, e, d.expiry(initTTL))
	d.used.Add(size)
	s.mu.Unlock()
	return n, d.evict(), nil
}

// Delete implements [Dict].
func (d *memDict) Delete(_ context.Context, key string) error {
	if err := d.check(key); err != nil {
		return err
	}
	s := d.shard(key)
	s.mu.Lock()
	if e := s.m[key]; e != nil {
		s.remove(d, e)
	}
	s.mu.Unlock()
	return nil
}

// TTL implements [Dict].
func (d *memDict) TTL(_ context.Context, key string) (time.Duration, error) {
	if err := d.check(key); err != nil {
		return 0, err
	}
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(d, key)
	if e == nil {
		return 0, ErrNotFound
	}
	if e.expires == 0 {
		return 0, nil
	}
	return time.Duration(e.expires - d.now().UnixNano()), nil
}

// Expire implements [Dict].
func (d *memDict) Expire(_ context.Context, key string, ttl time.Duration) error {
	if err := d.check(key); err != nil {
		return err
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(d, key)
	if e == nil {
		return ErrNotFound
	}
	s.setExpiry(d, e, d.expiry(ttl))
	return nil
}

// FlushAll implements [Dict].
func (d *memDict) FlushAll(context.Context) error {
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		var freed, timed int64
		for _, e := range s.m {
			freed += e.size
			if e.expires != 0 {
				timed++
			}
		}
		clear(s.m)
		s.head, s.tail = nil, nil
		s.oldest.Store(noTick)
		d.used.Add(-freed)
		d.timed.Add(-timed)
		s.mu.Unlock()
	}
	return nil
}

// FlushExpired implements [Dict].
func (d *memDict) FlushExpired(_ context.Context, max int) (int, error) {
	if d.closed.Load() {
		return 0, ErrClosed
	}
	now := d.now().UnixNano()
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		for _, e := range s.m {
			if max > 0 && n == max {
				break
			}
			if e.expires != 0 && e.expires <= now {
				s.remove(d, e)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n, nil
}

// Keys implements [Dict].
func (d *memDict) Keys(_ context.Context, max int) ([]string, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	now := d.now().UnixNano()
	var keys []string
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if max > 0 && len(keys) == max {
				break
			}
			if e.expires == 0 || e.expires > now {
				keys = append(keys, k)
			}
		}
		s.mu.Unlock()
	}
	return keys, nil
}

// evict removes least recently used items until the dictionary is within
// its size, and reports whether any of them had not expired. Expired
// items near the LRU end of each shard go first.
func (d *memDict) evict() (forcible bool) {
	if d.used.Load() <= d.size.Load() {
		return false
	}
	if d.timed.Load() > 0 {
		now := d.now().UnixNano()
		for i := range d.shards {
			s := &d.shards[i]
			s.mu.Lock()
			for e := s.expiredNearTail(now); e != nil && d.used.Load() > d.size.Load(); e = s.expiredNearTail(now) {
				s.remove(d, e)
			}
			s.mu.Unlock()
		}
	}
	for d.used.Load() > d.size.Load() {
		s := d.oldestShard()
		if s == nil {
			return forcible
		}
		s.mu.Lock()
		if e, expired := s.victim(d); e != nil {
			forcible = forcible || !expired
			s.remove(d, e)
		}
		s.mu.Unlock()
	}
	return forcible
}

// oldestShard returns the shard holding the least recently used item, or
// nil when every shard is empty.
func (d *memDict) oldestShard() *shard {
	var best *shard
	min := uint64(noTick)
	for i := range d.shards {
		if t := d.shards[i].oldest.Load(); t < min {
			min, best = t, &d.shards[i]
		}
	}
	return best
}

// live returns key's entry, or nil when it is absent or expired (an
// expired one is removed). The shard's lock is held.
func (s *shard) live(d *memDict, key string) *entry {
	e := s.m[key]
	if e == nil {
		return nil
	}
	if e.expires != 0 && e.expires <= d.now().UnixNano() {
		s.remove(d, e)
		return nil
	}
	return e
}

// victim returns the entry to evict: an expired one among the last few,
// else the least recently used one. The shard's lock is held.
func (s *shard) victim(d *memDict) (e *entry, expired bool) {
	if e := s.expiredNearTail(d.now().UnixNano()); e != nil {
		return e, true
	}
	return s.tail, false
}

// expiredNearTail returns an expired entry among the victimScan least
// recently used ones, or nil. The shard's lock is held.
func (s *shard) expiredNearTail(now int64) *entry {
	n := 0
	for c := s.tail; c != nil && n < victimScan; c, n = c.prev, n+1 {
		if c.expires != 0 && c.expires <= now {
			return c
		}
	}
	return nil
}

// setExpiry sets e's expiry time, keeping the count of timed items. The
// shard's lock is held.
func (s *shard) setExpiry(d *memDict, e *entry, expires int64) {
	switch {
	case e.expires == 0 && expires != 0:
		d.timed.Add(1)
	case e.expires != 0 && expires == 0:
		d.timed.Add(-1)
	}
	e.expires = expires
}

func (s *shard) remove(d *memDict, e *entry) {
	delete(s.m, e.key)
	s.unlink(e)
	s.syncOldest()
	d.used.Add(-e.size)
	if e.expires != 0 {
		d.timed.Add(-1)
	}
}

// touch makes e the most recently used entry.
func (s *shard) touch(d *memDict, e *entry) {
	e.tick = d.clock.Add(1)
	if s.head != e {
		s.unlink(e)
		s.linkFront(e)
	}
	s.syncOldest()
}

func (s *shard) pushFront(d *memDict, e *entry) {
	e.tick = d.clock.Add(1)
	s.linkFront(e)
	s.syncOldest()
}

func (s *shard) linkFront(e *entry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
}

func (s *shard) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if s.head == e {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if s.tail == e {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (s *shard) syncOldest() {
	if s.tail == nil {
		s.oldest.Store(noTick)
	} else {
		s.oldest.Store(s.tail.tick)
	}
}
