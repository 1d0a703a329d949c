package luabridge

// This file is the bridge's side of the host's memory fence
// (docs/SECURITY.md, "The memory fence"): an estimate of the memory a Lua
// state holds, found by a bounded walk of what it can reach; a sweep of a
// pool's idle states that closes those holding too much; and a bound on
// the memory one table assignment can take.

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// MaxArrayIndex is the largest index a table keeps in its array part;
// larger integer keys go to its hash part. gopher-lua's own bound is
// 2^26: `t[6e7] = true` on an empty table fills an array of 6e7 slots
// (960 MB) in one instruction, faster than any fence can react. Past
// 2^22 - 1 a key costs one hash entry instead, and no single assignment
// allocates more than 64 MiB, the default string-bytes limit.
//
// The price: `#t` counts the array part only, so a table filled by index
// past this bound (t[i] = v) reports a length of MaxArrayIndex - 1;
// table.insert(t, v) keeps appending to the array part and is not
// affected (docs/SECURITY.md).
const MaxArrayIndex = 1<<22 - 1

func init() {
	// gopher-lua reads this package variable on every integer-keyed table
	// access; it is set once, before any state exists.
	lua.MaxArrayIndex = MaxArrayIndex + 1
}

// Footprint is an estimate of the memory a Lua state holds: what its
// globals, registry (loaded modules among them), stack, app and the
// coroutines it keeps reach. Strings count their bytes, tables their
// slots and entries, coroutines their stacks. It is an estimate: Go's
// own overhead per object is approximated, and memory held by Go values
// behind userdata is not seen.
type Footprint struct {
	Bytes    int64 // estimated bytes
	Values   int   // values visited
	Complete bool  // false when the walk stopped at its budget: Bytes is a lower bound
}

// Approximate sizes, in bytes, of what a Lua state is made of in
// gopher-lua v1.1.2 on a 64-bit machine.
const (
	slotBytes      = 16 // an LValue: an interface
	tableBytes     = 64 // an LTable and its first array block
	entryBytes     = 64 // a hash entry: map slot, key list entry, key index
	stringBytes    = 16 // a string header
	functionBytes  = 64 // an LFunction and its upvalue list
	userdataBytes  = 48
	callFrameBytes = 80
)

// Footprint walks what the state reaches, visiting at most budget values,
// and estimates its size. Call it only while no request runs on the
// state: on an idle state (see [Pool.Sweep]) or from the goroutine that
// holds it, since gopher-lua's tables are not safe for concurrent use.
func (s *State) Footprint(budget int) Footprint {
	w := footprintWalk{budget: budget, seen: map[any]struct{}{}}
	L := s.lstate
	w.push(L.G.Global)
	w.push(L.G.Registry)
	w.push(L.Env)
	w.push(s.app)
	for i := 1; i <= L.GetTop(); i++ {
		w.push(L.Get(i))
	}
	w.run()
	return Footprint{Bytes: w.bytes, Values: w.visited, Complete: !w.stopped}
}

// footprintWalk is a breadth-first walk with an explicit queue, so that
// nesting costs no Go stack.
type footprintWalk struct {
	budget  int
	visited int
	stopped bool
	bytes   int64
	queue   []lua.LValue
	seen    map[any]struct{}
}

func (w *footprintWalk) push(v lua.LValue) {
	if v != nil && v != lua.LNil {
		w.queue = append(w.queue, v)
	}
}

// first reports whether p is seen for the first time.
func (w *footprintWalk) first(p any) bool {
	if _, ok := w.seen[p]; ok {
		return false
	}
	w.seen[p] = struct{}{}
	return true
}

func (w *footprintWalk) run() {
	for len(w.queue) > 0 {
		if w.visited >= w.budget {
			w.stopped = true
			return
		}
		v := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.visited++
		w.visit(v)
	}
}

func (w *footprintWalk) visit(v lua.LValue) {
	switch v := v.(type) {
	case lua.LString:
		// A string held in many places is one allocation: count large
		// ones once.
		if len(v) >= 64 && !w.first(unsafe.StringData(string(v))) {
			return
		}
		w.bytes += stringBytes + int64(len(v))
	case *lua.LTable:
		if w.first(v) {
			w.table(v)
		}
	case *lua.LFunction:
		if !w.first(v) {
			return
		}
		w.bytes += functionBytes + int64(len(v.Upvalues))*8
		for _, uv := range v.Upvalues {
			w.push(uv.Value())
		}
		if v.Env != nil {
			w.push(v.Env)
		}
	case *lua.LUserData:
		if w.first(v) {
			w.bytes += userdataBytes
			w.push(v.Metatable)
			if v.Env != nil {
				w.push(v.Env)
			}
		}
	case *lua.LState:
		if w.first(v) {
			w.coroutine(v)
		}
	}
}

// table counts a table's array part (up to its last non-nil element) and
// hash part, and queues its contents and metatable.
func (w *footprintWalk) table(t *lua.LTable) {
	w.bytes += tableBytes
	w.push(t.Metatable)
	n := t.MaxN()
	w.bytes += int64(n) * slotBytes
	for i := 1; i <= n; i++ {
		if len(w.queue) >= w.budget {
			w.stopped = true // more elements than the whole budget
			break
		}
		w.push(t.RawGetInt(i))
	}
	var k lua.LValue = lua.LNil
	if n > 0 {
		k = lua.LNumber(n)
	}
	for entries := 0; ; entries++ {
		key, val := t.Next(k)
		if key == lua.LNil {
			return
		}
		if entries > w.budget {
			w.stopped = true // a hash part larger than the whole budget
			return
		}
		w.bytes += entryBytes
		w.push(key)
		w.push(val)
		k = key
	}
}

// coroutine counts a coroutine's stacks and queues what its stack holds.
// A suspended coroutine is a Lua state of its own, with a registry of
// RegistrySize slots at least and a call stack of CallStackSize frames.
func (w *footprintWalk) coroutine(co *lua.LState) {
	top := co.GetTop()
	w.bytes += int64(max(co.Options.RegistrySize, top))*slotBytes + int64(co.Options.CallStackSize)*callFrameBytes
	for i := 1; i <= top; i++ {
		w.push(co.Get(i))
	}
}

// Sweep measures each idle state of the pool, visiting at most budget
// values in each (see [State.Footprint]), and closes those for which drop
// returns true; the others go back to the pool. It returns the footprints
// of the states it closed. States lent out are not touched: they are
// stopped through their request's context. Sweep is safe for concurrent
// use with the pool's other methods.
func (p *Pool) Sweep(budget int, drop func(Footprint) bool) []Footprint {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	var kept []*State
	var dropped []Footprint
	for _, s := range idle {
		fp := s.Footprint(budget)
		if drop(fp) {
			p.discard(s)
			dropped = append(dropped, fp)
			continue
		}
		kept = append(kept, s)
	}
	p.mu.Lock()
	if !p.closed {
		p.idle = append(p.idle, kept...)
		kept = nil
		// States opened while these were out may leave more idle states
		// than the pool holds.
		for len(p.idle) > cap(p.slots) {
			kept = append(kept, p.idle[0])
			p.idle = p.idle[1:]
		}
	}
	p.mu.Unlock()
	for _, s := range kept {
		p.discard(s)
	}
	return dropped
}

// Discard closes a state lent by [Pool.Get] instead of giving it back: it
// may hold memory that must go (the host's memory fence stopped its
// request). A new state takes its place on demand.
func (p *Pool) Discard(s *State) {
	p.discard(s)
	<-p.slots
}
