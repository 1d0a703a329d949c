package lualib

// This file implements lsgi.template: Go's html/template (contextual
// auto-escaping) driven from Lua, with templates parsed once per app version
// and parsed again when a file changes.

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/appfs"
	lua "github.com/yuin/gopher-lua"
)

// racyWindow is how recent a file's modification time must be for the
// cache to compare its content as well: a file rewritten within the same
// timestamp granularity keeps its modification time (the "racily clean"
// problem of git's index).
const racyWindow = 2 * time.Second

// templateCache holds the parsed templates of one app version.
type templateCache struct {
	reloaded bool           // see templateEntry.stale
	epoch    *atomic.Uint64 // Options.AssetsChanged; nil when there is none
	mu       sync.Mutex
	entries  map[string]*templateEntry
	bufs     sync.Pool
}

func (c *templateCache) init() {
	c.entries = make(map[string]*templateEntry)
	c.bufs.New = func() any { return new(limitedBuffer) }
}

// templateEntry is one parsed set of files (a page, or a layout and its
// page) with the stamps of the files it was parsed from.
type templateEntry struct {
	mu     sync.Mutex
	names  []string
	stamps []fileStamp
	tmpl   *template.Template
	epoch  uint64        // templateCache.epoch when the files were last checked
	fast   *fastTemplate // tmpl compiled for the fast path, if it can be
	tried  bool          // compiling fast was tried (tmpl has been escaped)
}

// fileStamp identifies a version of a file.
type fileStamp struct {
	mod  time.Time
	size int64
	sum  [sha256.Size]byte
}

// stale reports whether any file of e changed since it was parsed. With
// reloaded set, the host loads a new version of the app (with a new cache)
// when its code changes and counts the changes to its other files in
// epoch: a parsed template is checked against its files only once epoch
// has moved, so renders need not touch the file system. e.mu must be held.
func (e *templateEntry) stale(fsys fs.FS, reloaded bool, epoch uint64) bool {
	if e.tmpl == nil {
		return true
	}
	if reloaded && e.epoch == epoch {
		return false
	}
	if e.changed(fsys) {
		return true
	}
	e.epoch = epoch
	return false
}

// changed reports whether a file of e differs from what was parsed.
func (e *templateEntry) changed(fsys fs.FS) bool {
	now := time.Now()
	for i, name := range e.names {
		fi, err := appfs.Stat(fsys, name)
		if err != nil {
			return true
		}
		st := e.stamps[i]
		if !fi.ModTime().Equal(st.mod) || fi.Size() != st.size {
			return true
		}
		if st.mod.IsZero() || now.Sub(st.mod) < racyWindow {
			data, err := appfs.ReadFile(fsys, name)
			if err != nil || sha256.Sum256(data) != st.sum {
				return true
			}
		}
	}
	return false
}

// parse reads and parses e's files. The first file is the template that
// runs; the others (and {{define}} blocks) are reachable by their base
// names, as with template.ParseFiles.
func (e *templateEntry) parse(fsys fs.FS) error {
	stamps := make([]fileStamp, len(e.names))
	var root *template.Template
	for i, name := range e.names {
		fi, err := appfs.Stat(fsys, name)
		if err != nil {
			return err
		}
		data, err := appfs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		stamps[i] = fileStamp{mod: fi.ModTime(), size: fi.Size(), sum: sha256.Sum256(data)}
		base := path.Base(name)
		var t *template.Template
		if root == nil {
			root = template.New(base)
			t = root
		} else {
			t = root.New(base)
		}
		if _, err := t.Parse(string(data)); err != nil {
			return err
		}
	}
	e.tmpl, e.stamps = root, stamps
	return nil
}

// get returns the up-to-date parsed template for names, with its entry.
func (c *templateCache) get(fsys fs.FS, names []string) (*template.Template, *templateEntry, error) {
	key := strings.Join(names, "\x00")
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &templateEntry{names: names}
		c.entries[key] = e
	}
	c.mu.Unlock()

	var epoch uint64
	if c.epoch != nil {
		epoch = c.epoch.Load()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stale(fsys, c.reloaded, epoch) {
		e.tmpl, e.fast, e.tried = nil, nil, false
		e.epoch = epoch
		if err := e.parse(fsys); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				// Forget names that do not exist, so that the cache cannot
				// grow with every missing name an app is asked for.
				c.mu.Lock()
				if c.entries[key] == e {
					delete(c.entries, key)
				}
				c.mu.Unlock()
			}
			return nil, nil, err
		}
	}
	return e.tmpl, e, nil
}

// fastFor returns t's fast form, if it has one yet.
func (e *templateEntry) fastFor(t *template.Template) *fastTemplate {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tmpl != t {
		return nil
	}
	return e.fast
}

// compiled compiles t's fast form once t has run: html/template escapes a
// template when it first executes it, and the fast form is made from the
// escaped tree.
func (e *templateEntry) compiled(t *template.Template) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tmpl == t && !e.tried {
		e.tried = true
		e.fast = compileFast(t)
	}
}

// render executes the templates names with the Lua data and returns the
// text, of at most limit bytes: on the fast path when the template and the
// data allow it (template_fast.go), otherwise through html/template with the
// data converted by toGo. A data error is an *argError.
func (c *templateCache) render(L *lua.LState, fsys fs.FS, names []string, data lua.LValue, limits luabridge.Limits) (string, error) {
	limits = limits.WithDefaults()
	simple, isSimple := fastData(data, limits.MaxDataNodes)
	var goData any
	if !isSimple {
		var err error
		if goData, err = toGo(L, limits, data); err != nil {
			return "", &argError{err}
		}
	}
	t, e, err := c.get(fsys, names)
	if err != nil {
		return "", err
	}
	buf := c.bufs.Get().(*limitedBuffer)
	buf.buf, buf.limit = buf.buf[:0], limits.MaxStringBytes
	defer func() {
		if cap(buf.buf) <= 1<<20 {
			c.bufs.Put(buf)
		}
	}()
	if isSimple {
		if f := e.fastFor(t); f != nil {
			if err := f.render(buf, simple); err != nil {
				return "", err
			}
			return string(buf.buf), nil
		}
		if goData, err = toGo(L, limits, data); err != nil {
			return "", &argError{err}
		}
	}
	if err := t.Execute(buf, goData); err != nil {
		return "", err
	}
	if isSimple {
		e.compiled(t)
	}
	return string(buf.buf), nil
}

// argError is an error in the data given to render.
type argError struct{ err error }

func (e *argError) Error() string { return e.err.Error() }

func (s *Shared) openTemplate(L *lua.LState) int {
	L.Push(newModule(L, map[string]lua.LGFunction{
		"render": s.templateRender,
		"exists": s.templateExists,
	}))
	return 1
}

// templateNames reads argument 1: a file name, or an array of file names
// (a layout first, then the files that fill it).
func templateNames(L *lua.LState) []string {
	var names []string
	switch v := L.Get(1).(type) {
	case lua.LString:
		names = []string{string(v)}
	case *lua.LTable:
		for i := 1; ; i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				if v.RawGetInt(i) != lua.LNil {
					L.ArgError(1, "template names must be strings")
				}
				break
			}
			names = append(names, string(s))
		}
	default:
		L.ArgError(1, "template name (a string or an array of strings) expected, got "+v.Type().String())
	}
	if len(names) == 0 {
		L.ArgError(1, "no template name given")
	}
	for _, n := range names {
		if !fs.ValidPath(n) || n == "." {
			L.ArgError(1, strconv.Quote(n)+" is not a path inside the app's folder (no leading /, no . or .. segments)")
		}
	}
	return names
}

// templateRender: render(name_or_names, data) -> string.
func (s *Shared) templateRender(L *lua.LState) int {
	names := templateNames(L)
	if s.fsys == nil {
		L.RaiseError("lsgi.template: this app has no folder to read templates from")
	}
	out, err := s.templates.render(L, s.fsys, names, L.Get(2), s.limits)
	var dataErr *argError
	if errors.As(err, &dataErr) {
		L.ArgError(2, err.Error())
	}
	if err != nil {
		L.RaiseError("lsgi.template: %s", err.Error())
	}
	L.Push(lua.LString(out))
	return 1
}

// templateExists: exists(name) -> whether the file name exists in the
// app's folder.
func (s *Shared) templateExists(L *lua.LState) int {
	name := checkLString(L, 1)
	if s.fsys == nil || !fs.ValidPath(name) {
		L.Push(lua.LFalse)
		return 1
	}
	fi, err := appfs.Stat(s.fsys, name)
	L.Push(lua.LBool(err == nil && fi.Mode().IsRegular()))
	return 1
}

// toGo converts template data from Lua to Go: nil and json.null to nil,
// booleans, strings, integral numbers to int64 (so that {{if eq .n 3}}
// works) and other numbers to float64, tables whose keys are exactly 1..n
// to []any, other tables to map[string]any (number keys become strings).
// Functions, threads and other userdata are refused, as are cycles; the
// data-nodes and data-depth limits bound the work.
func toGo(L *lua.LState, limits luabridge.Limits, v lua.LValue) (any, error) {
	c := &dataConverter{budget: budget{L: L, limits: limits.WithDefaults()}, open: map[*lua.LTable]bool{}}
	return c.convert(v, 0)
}

// goNumber is a Lua number as templates see it: an int64 when it is
// integral (so that {{if eq .n 3}} works), a float64 otherwise.
func goNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// dataConverter converts one template's data.
type dataConverter struct {
	budget budget
	open   map[*lua.LTable]bool // tables being converted, to detect cycles
}

func (c *dataConverter) convert(v lua.LValue, depth int) (any, error) {
	if err := c.budget.visit(depth); err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return goNumber(float64(v)), nil
	case *lua.LUserData:
		if _, ok := v.Value.(jsonNull); ok {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot pass a userdata to a template")
	case *lua.LTable:
		if c.open[v] {
			return nil, fmt.Errorf("data contains a table that contains itself")
		}
		c.open[v] = true
		defer delete(c.open, v)
		n, maxIndex, onlyIndexes := 0, 0, true
		for k, _ := v.Next(lua.LNil); k != lua.LNil; k, _ = v.Next(k) {
			n++
			if num, ok := k.(lua.LNumber); ok && float64(num) >= 1 && float64(num) == math.Trunc(float64(num)) {
				maxIndex = max(maxIndex, int(num))
			} else {
				onlyIndexes = false
			}
		}
		if n > 0 && onlyIndexes && maxIndex == n {
			list := make([]any, n)
			for i := 1; i <= n; i++ {
				item, err := c.convert(v.RawGetInt(i), depth+1)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				list[i-1] = item
			}
			return list, nil
		}
		m := make(map[string]any, n)
		var err error
		v.ForEach(func(k, val lua.LValue) {
			if err != nil {
				return
			}
			var key string
			switch k := k.(type) {
			case lua.LString:
				key = string(k)
			case lua.LNumber:
				key = k.String()
			default:
				err = fmt.Errorf("table keys must be strings or numbers, not %s", k.Type().String())
				return
			}
			item, e := c.convert(val, depth+1)
			if e != nil {
				err = fmt.Errorf(".%s: %w", key, e)
				return
			}
			m[key] = item
		})
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("cannot pass a %s to a template", v.Type().String())
}
