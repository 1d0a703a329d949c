package tests

import (
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Hot reload, end to end: the real binary serves a copy of testdata/reload
// (a counting plugin and a folder plugin with modules) plus the files each
// test adds, and the tests change the folder the ways people and tools do.
// They wait for what can be observed (a response, a log line), with a
// bound, never for a fixed time.

// reloadTimeout bounds the wait for a change on disk to show in the
// responses or in the log.
const reloadTimeout = 10 * time.Second

// watchModes are the two ways the server notices changes: file system
// events, and polling forced with --poll.
var watchModes = []struct {
	name  string
	flags []string
	// debounced: changes are seen through events debounced per plugin, so
	// a save made of several quick steps is seen as one. Polling can look
	// at the folder between two steps.
	debounced bool
	log       *regexp.Regexp // the startup line that says which one is on
}{
	{"events", nil, true, regexp.MustCompile(`msg="watching plugins for changes"`)},
	{"polling", []string{"--poll", "50ms"}, false, regexp.MustCompile(`msg="polling plugins for changes" .*\binterval=50ms\b`)},
}

// saveMethod is a way an editor or a deploy script writes a file.
type saveMethod struct {
	name string
	file string // plugin name used for it
	save func(t *testing.T, path, content string)
	// gap: the file is missing for a moment during the save.
	gap bool
}

var saveMethods = []saveMethod{
	{"plain write", "plain", savePlain, false},
	{"atomic rename", "atomic", saveAtomic, false},
	{"vim", "vim", saveLikeVim, true},
}

// textApp returns a plugin that answers 200 text/plain with body, which
// must need no escaping in a Lua string.
func textApp(body string) string {
	return `return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"` + body + `"}
end
`
}

// countingApp returns a plugin with module-level state: each request
// increments a global and gets "LABEL:COUNT".
func countingApp(label string) string {
	return `count = 0

return function(environ, start_response)
  count = count + 1
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"` + label + `:" .. count}
end
`
}

// savePlain writes content over path in place (truncate, then write), the
// way os.WriteFile, shell redirection and many editors do.
func savePlain(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// saveAtomic writes content to a temporary file in the same folder and
// renames it over path, as atomic-save editors and deploy tools do.
func saveAtomic(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		t.Fatal(err)
	}
}

// saveLikeVim saves content the way vim does with its default settings
// ('backupcopy' auto, 'writebackup' on, 'backup' off), in a session that
// keeps a swap file next to the file: it writes to .NAME.swp while
// editing; at :w it probes that the folder is writable with a file called
// 4913, renames the original to NAME~, writes a new NAME and deletes the
// backup; at :q it deletes the swap file.
func saveLikeVim(t *testing.T, path, content string) {
	t.Helper()
	dir, base := filepath.Split(path)
	swap := filepath.Join(dir, "."+base+".swp")
	probe := filepath.Join(dir, "4913")
	backup := path + "~"
	steps := []struct {
		what string
		do   func() error
	}{
		{"open: create the swap file", func() error { return os.WriteFile(swap, []byte("b0VIM 9.1\x00"+base), 0o600) }},
		{"edit: update the swap file", func() error { return appendToFile(swap, "\x00"+content) }},
		{":w: create the probe file", func() error { return os.WriteFile(probe, nil, 0o644) }},
		{":w: delete the probe file", func() error { return os.Remove(probe) }},
		{":w: rename the original to the backup", func() error { return os.Rename(path, backup) }},
		{":w: write the new file", func() error { return writeSynced(path, content) }},
		{":w: delete the backup", func() error { return os.Remove(backup) }},
		{":q: delete the swap file", func() error { return os.Remove(swap) }},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("vim save of %s, %s: %v", path, step.what, err)
		}
	}
}

func appendToFile(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeSynced creates path, writes data and fsyncs it, as vim does.
func writeSynced(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// touch changes a file's modification time and nothing else.
func touchFile(t *testing.T, path, _ string) {
	t.Helper()
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		t.Fatal(err)
	}
}

// appLogRE matches the host's log line msg="MSG" app=APP.
func appLogRE(msg, app string) *regexp.Regexp {
	return regexp.MustCompile(`msg=` + regexp.QuoteMeta(strconv.Quote(msg)) + ` app=` + regexp.QuoteMeta(app) + `(?:\s|$)`)
}

func reloadedRE(app string) *regexp.Regexp { return appLogRE("app reloaded", app) }

// awaitLogSince waits for a log line matching re among the lines from index
// mark on (mark is s.log.len() taken before the change) and returns it.
func awaitLogSince(t *testing.T, s *server, mark int, re *regexp.Regexp) string {
	t.Helper()
	timer := time.NewTimer(reloadTimeout)
	defer timer.Stop()
	for seen := mark; ; {
		lines, changed := s.log.snapshot()
		for ; seen < len(lines); seen++ {
			if re.MatchString(lines[seen]) {
				return lines[seen]
			}
		}
		select {
		case <-changed:
		case <-s.exited:
			t.Fatalf("lsgi exited while the test waited for a log line matching %q", re)
		case <-timer.C:
			t.Fatalf("no log line matching %q within %v of the change", re, reloadTimeout)
		}
	}
}

// countSince counts the log lines from index mark on that match re.
func countSince(s *server, mark int, re *regexp.Regexp) int {
	lines, _ := s.log.since(mark)
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// logField returns the value of key in a slog text line, unquoted.
func logField(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if strings.HasPrefix(v, `"`) {
		if q, err := strconv.QuotedPrefix(v); err == nil {
			if s, err := strconv.Unquote(q); err == nil {
				return s
			}
		}
		return v
	}
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}

// awaitAnswer sends GET path until it answers status with body, at most
// for reloadTimeout, then checks that the next requests get the same.
func awaitAnswer(t *testing.T, s *server, path string, status int, body string) {
	t.Helper()
	deadline := time.Now().Add(reloadTimeout)
	last := "nothing"
	for {
		req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.do(req)
		switch {
		case err != nil:
			last = err.Error()
		case r.status == status && r.body == body && r.bodyErr == nil:
			for range 3 {
				s.get(t, path).expect(t, "GET "+path+" once the change showed", status, body)
			}
			return
		default:
			last = fmt.Sprintf("%d %q", r.status, r.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer %d %q within %v of the change; last answer: %s", path, status, body, reloadTimeout, last)
		}
		time.Sleep(5 * time.Millisecond) // between attempts, not instead of one
	}
}

// awaitMounted sends GET path until it answers anything but 404, at most
// for reloadTimeout, and returns that answer.
func awaitMounted(t *testing.T, s *server, path string) *response {
	t.Helper()
	deadline := time.Now().Add(reloadTimeout)
	for {
		r := s.get(t, path)
		if r.status != http.StatusNotFound {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s still 404 %v after the plugin was added", path, reloadTimeout)
		}
		time.Sleep(5 * time.Millisecond) // between attempts, not instead of one
	}
}

// expectNext checks that each of the next three requests for path gets
// status and body.
func expectNext(t *testing.T, s *server, what, path string, status int, body string) {
	t.Helper()
	for range 3 {
		s.get(t, path).expect(t, what, status, body)
	}
}

// watchAnswers sends GET path back to back until the returned function is
// called (or the test ends); that function returns how many requests were
// sent and the answers that were not 200 with one of the allowed bodies.
func watchAnswers(t *testing.T, s *server, path string, allowed ...string) func() (int, []string) {
	stop := make(chan struct{})
	type result struct {
		n   int
		bad []string
	}
	done := make(chan result, 1)
	go func() {
		var res result
		for {
			select {
			case <-stop:
				done <- res
				return
			default:
			}
			req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
			if err != nil {
				panic(err)
			}
			r, err := s.do(req)
			res.n++
			switch {
			case err != nil:
				res.bad = append(res.bad, err.Error())
			case r.status != http.StatusOK || r.bodyErr != nil || !slices.Contains(allowed, r.body):
				res.bad = append(res.bad, fmt.Sprintf("%d %q (body error %v)", r.status, r.body, r.bodyErr))
			}
		}
	}()
	var res result
	finish := sync.OnceFunc(func() {
		close(stop)
		res = <-done
	})
	t.Cleanup(finish)
	return func() (int, []string) {
		finish()
		return res.n, res.bad
	}
}

// TestReloadEdits edits plugins by plain write, atomic rename and a vim
// save, twice each, and checks that the next requests get the new body and
// that every request made during the save got the old or the new one.
func TestReloadEdits(t *testing.T) {
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			files := map[string]string{}
			for _, m := range saveMethods {
				files[m.file+".lua"] = textApp(m.file + " v1")
			}
			s := startServerFiles(t, "reload", files, mode.flags...)
			s.waitLog(t, mode.log)
			for _, m := range saveMethods {
				t.Run(m.name, func(t *testing.T) {
					path, file := "/"+m.file, filepath.Join(s.dir, m.file+".lua")
					s.get(t, path).expect(t, "GET "+path+" before the edits", http.StatusOK, m.file+" v1")
					// Polling may look at the folder while a vim save has
					// the file missing, and unmount it for one interval.
					strict := mode.debounced || !m.gap
					for v := 2; v <= 3; v++ {
						old, body := fmt.Sprintf("%s v%d", m.file, v-1), fmt.Sprintf("%s v%d", m.file, v)
						mark := s.log.len()
						during := watchAnswers(t, s, path, old, body)
						m.save(t, file, textApp(body))
						if strict {
							// The version is current before the line is
							// logged: the very next requests get it.
							awaitLogSince(t, s, mark, reloadedRE(m.file))
							expectNext(t, s, "GET "+path+" after the reload was logged", path, http.StatusOK, body)
						} else {
							awaitAnswer(t, s, path, http.StatusOK, body)
							awaitLogSince(t, s, mark, regexp.MustCompile(`msg="app (?:reloaded|mounted)" app=`+m.file+` `))
						}
						n, bad := during()
						if strict && len(bad) > 0 {
							t.Errorf("save %d: %d of %d requests made during the save got neither %q nor %q: %q", v, len(bad), n, old, body, bad)
						}
						if strict {
							if line, ok := findSince(s, mark, regexp.MustCompile(`msg="app (?:unmounted|mounted|failed to load)" app=`+m.file+` `)); ok {
								t.Errorf("save %d: the plugin was unmounted or remounted: %s", v, line)
							}
						}
					}
				})
			}
		})
	}
}

// findSince returns the first log line from index mark on that matches re.
func findSince(s *server, mark int, re *regexp.Regexp) (string, bool) {
	lines, _ := s.log.since(mark)
	for _, l := range lines {
		if re.MatchString(l) {
			return l, true
		}
	}
	return "", false
}

// reloadAnswer is a response a path must give.
type reloadAnswer struct {
	path   string
	status int
	body   string
}

const notFoundBody = "404 Not Found\n"

// TestReloadMounts adds, renames and removes single-file and folder
// plugins and checks the mounts follow: new names answer, old ones 404.
func TestReloadMounts(t *testing.T) {
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			s := startServerFiles(t, "reload", nil, mode.flags...)
			s.waitLog(t, mode.log)
			in := func(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }
			rename := func(t *testing.T, from, to string) {
				t.Helper()
				if err := os.Rename(in(from), in(to)); err != nil {
					t.Fatal(err)
				}
			}
			remove := func(t *testing.T, name string) {
				t.Helper()
				if err := os.RemoveAll(in(name)); err != nil {
					t.Fatal(err)
				}
			}
			boxInit := `local part = require("part")
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"box ", part}
end
`
			for _, step := range []struct {
				name string
				do   func(t *testing.T)
				want []reloadAnswer
				log  *regexp.Regexp // a line the change must log
			}{
				{"add a file", func(t *testing.T) { savePlain(t, in("new.lua"), textApp("new")) },
					[]reloadAnswer{{"/new", 200, "new"}}, appLogRE("app mounted", "new")},
				{"rename the file", func(t *testing.T) { rename(t, "new.lua", "moved.lua") },
					[]reloadAnswer{{"/moved", 200, "new"}, {"/new", 404, notFoundBody}}, appLogRE("app unmounted", "new")},
				{"remove the file", func(t *testing.T) { remove(t, "moved.lua") },
					[]reloadAnswer{{"/moved", 404, notFoundBody}}, appLogRE("app unmounted", "moved")},
				{"add a folder plugin", func(t *testing.T) {
					savePlain(t, in("box/part.lua"), `return "part-v1"`)
					savePlain(t, in("box/init.lua"), boxInit)
				}, []reloadAnswer{{"/box", 200, "box part-v1"}}, appLogRE("app mounted", "box")},
				{"rename the folder", func(t *testing.T) { rename(t, "box", "crate") },
					[]reloadAnswer{{"/crate", 200, "box part-v1"}, {"/box", 404, notFoundBody}}, appLogRE("app unmounted", "box")},
				{"edit a module in the renamed folder", func(t *testing.T) { saveAtomic(t, in("crate/part.lua"), `return "part-v2"`) },
					[]reloadAnswer{{"/crate", 200, "box part-v2"}}, reloadedRE("crate")},
				{"remove the folder", func(t *testing.T) { remove(t, "crate") },
					[]reloadAnswer{{"/crate", 404, notFoundBody}}, appLogRE("app unmounted", "crate")},
			} {
				t.Run(step.name, func(t *testing.T) {
					mark := s.log.len()
					step.do(t)
					for _, a := range step.want {
						awaitAnswer(t, s, a.path, a.status, a.body)
					}
					awaitLogSince(t, s, mark, step.log)
				})
			}
			s.get(t, "/site").expect(t, "GET /site after the others came and went", http.StatusOK, "greeting-v1 words-v1")
		})
	}
}

// TestReloadBrokenFile saves a plugin that does not compile, and one that
// raises while it loads: the error is logged with file and line; without
// --dev the previous version keeps serving, with --dev loopback clients get
// an error page with the message and the offending line; once the file is
// fixed, the fix serves.
func TestReloadBrokenFile(t *testing.T) {
	breaks := []struct {
		name   string
		plugin string
		source string
		line   int    // of the error
		hot    string // the source line the error is on
	}{
		{"syntax error", "syntax", `return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"unfinished" .. }
end
`, 3, `  return {"unfinished" .. }`},
		{"error while loading", "raise", `local answer = 42
error("cannot start: the answer is " .. answer)
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"never"}
end
`, 2, `error("cannot start: the answer is " .. answer)`},
	}
	hotRE := regexp.MustCompile(`(?s)<span class="hot"><span class="n">(\d+)</span>(.*?)</span>`)
	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprintf("dev=%v", dev), func(t *testing.T) {
			files := map[string]string{}
			for _, b := range breaks {
				files[b.plugin+".lua"] = textApp(b.plugin + " v1")
			}
			s := startServerFiles(t, "reload", files, fmt.Sprintf("--dev=%v", dev))
			for _, b := range breaks {
				t.Run(b.name, func(t *testing.T) {
					path, file := "/"+b.plugin, filepath.Join(s.dir, b.plugin+".lua")
					s.get(t, path).expect(t, "GET "+path+" before the break", http.StatusOK, b.plugin+" v1")

					mark := s.log.len()
					savePlain(t, file, b.source)
					line := awaitLogSince(t, s, mark, appLogRE("app reload failed; the previous version keeps serving", b.plugin))
					msg := logField(line, "err")
					if pos := fmt.Sprintf("%s:%d:", file, b.line); !strings.HasPrefix(msg, pos) {
						t.Errorf("logged error %q, want it to start with the file and line %q", msg, pos)
					}

					for range 3 { // until the file is fixed
						r := s.get(t, path)
						if !dev {
							r.expect(t, "GET "+path+" while the file is broken", http.StatusOK, b.plugin+" v1")
							continue
						}
						r.expectStatus(t, "GET "+path+" while the file is broken", http.StatusInternalServerError)
						if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
							t.Errorf("error page Content-Type %q, want text/html", ct)
						}
						if page := html.UnescapeString(r.body); !strings.Contains(page, msg) {
							t.Errorf("error page does not show the message %q:\n%s", msg, r.body)
						}
						m := hotRE.FindStringSubmatch(r.body)
						if m == nil || m[1] != strconv.Itoa(b.line) || !strings.Contains(html.UnescapeString(m[2]), b.hot) {
							t.Errorf("error page does not mark line %d %q:\n%s", b.line, b.hot, r.body)
						}
					}

					mark = s.log.len()
					savePlain(t, file, textApp(b.plugin+" v2"))
					awaitLogSince(t, s, mark, reloadedRE(b.plugin))
					expectNext(t, s, "GET "+path+" once fixed", path, http.StatusOK, b.plugin+" v2")
				})
			}
		})
	}
}

// TestReloadModule edits the modules a folder plugin requires, in its
// folder, in a subfolder and in a subfolder created after the start, and
// the main file of a plugin with module-level state. Each change reloads
// that plugin only: with --states 1 the counter plugin's global goes on
// counting, while an edited plugin starts afresh.
func TestReloadModule(t *testing.T) {
	initWithMore := `local greeting = require("greeting")
local words = require("lib.words")
local more = require("extra.more")

return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {greeting.text, " ", words.text, " ", more.text}
end
`
	type file struct{ name, content string }
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			s := startServerFiles(t, "reload", map[string]string{"solo.lua": countingApp("solo")}, append(mode.flags, "--states", "1")...)
			s.waitLog(t, mode.log)
			start := s.log.len()
			count := 0
			counterGoesOn := func(t *testing.T) {
				t.Helper()
				count++
				s.get(t, "/counter").expect(t, "GET /counter", http.StatusOK, fmt.Sprintf("counter:%d", count))
			}
			counterGoesOn(t)
			counterGoesOn(t)
			s.get(t, "/solo").expect(t, "GET /solo", http.StatusOK, "solo:1")
			s.get(t, "/site").expect(t, "GET /site", http.StatusOK, "greeting-v1 words-v1")

			for _, step := range []struct {
				name  string
				save  func(t *testing.T, path, content string)
				files []file
				want  reloadAnswer
			}{
				{"module", savePlain, []file{{"site/greeting.lua", `return {text = "greeting-v2"}`}},
					reloadAnswer{"/site", 200, "greeting-v2 words-v1"}},
				{"module in a subfolder, saved by vim", saveLikeVim, []file{{"site/lib/words.lua", `return {text = "words-v2"}`}},
					reloadAnswer{"/site", 200, "greeting-v2 words-v2"}},
				{"module in a new subfolder", savePlain, []file{{"site/extra/more.lua", `return {text = "more-v1"}`}, {"site/init.lua", initWithMore}},
					reloadAnswer{"/site", 200, "greeting-v2 words-v2 more-v1"}},
				{"module in the new subfolder, atomic rename", saveAtomic, []file{{"site/extra/more.lua", `return {text = "more-v2"}`}},
					reloadAnswer{"/site", 200, "greeting-v2 words-v2 more-v2"}},
			} {
				t.Run(step.name, func(t *testing.T) {
					for _, f := range step.files {
						step.save(t, filepath.Join(s.dir, filepath.FromSlash(f.name)), f.content)
					}
					awaitAnswer(t, s, step.want.path, step.want.status, step.want.body)
					counterGoesOn(t)
				})
			}
			t.Run("plugin with module-level state", func(t *testing.T) {
				mark := s.log.len()
				savePlain(t, filepath.Join(s.dir, "solo.lua"), countingApp("solo2"))
				awaitLogSince(t, s, mark, reloadedRE("solo"))
				s.get(t, "/solo").expect(t, "GET /solo after the reload", http.StatusOK, "solo2:1")
				s.get(t, "/solo").expect(t, "GET /solo again", http.StatusOK, "solo2:2")
				counterGoesOn(t)
			})
			if n := countSince(s, start, regexp.MustCompile(`msg="app (?:reloaded|mounted|unmounted)" app=counter `)); n != 0 {
				t.Errorf("the counter plugin was reloaded %d times by changes to other plugins", n)
			}
		})
	}
}

// TestReloadUnchangedSave saves plugins without changing their content, by
// each save method and by touching the file: none reloads. Changes to
// another plugin, synced after the save's, show the watcher has looked at
// it; a real change afterwards shows the plugin is still watched.
func TestReloadUnchangedSave(t *testing.T) {
	methods := append(slices.Clip(saveMethods), saveMethod{"touch", "touched", touchFile, false})
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			files := map[string]string{"sentinel.lua": textApp("sentinel 0")}
			for _, m := range methods {
				files[m.file+".lua"] = textApp(m.file + " v1")
			}
			s := startServerFiles(t, "reload", files, mode.flags...)
			s.waitLog(t, mode.log)
			for i, m := range methods {
				t.Run(m.name, func(t *testing.T) {
					path, file := "/"+m.file, filepath.Join(s.dir, m.file+".lua")
					mark := s.log.len()
					m.save(t, file, textApp(m.file+" v1"))

					// The watcher syncs plugins one at a time, in the order
					// their debounce timers fire. The first sentinel change
					// may be synced just before the save's, but the second
					// one, made after the first was synced, comes after it.
					for round := range 2 {
						sentinelMark := s.log.len()
						savePlain(t, filepath.Join(s.dir, "sentinel.lua"), textApp(fmt.Sprintf("sentinel %d.%d", i, round)))
						awaitLogSince(t, s, sentinelMark, reloadedRE("sentinel"))
					}
					s.get(t, path).expect(t, "GET "+path+" after the unchanged save", http.StatusOK, m.file+" v1")

					changeMark := s.log.len()
					saveAtomic(t, file, textApp(m.file+" v2"))
					awaitLogSince(t, s, changeMark, reloadedRE(m.file))
					expectNext(t, s, "GET "+path+" after a real change", path, http.StatusOK, m.file+" v2")

					if n := countSince(s, mark, reloadedRE(m.file)); n != 1 {
						t.Errorf("%d reloads logged, want 1: the save without changes reloaded the plugin", n)
					}
					if mode.debounced || !m.gap {
						if line, ok := findSince(s, mark, regexp.MustCompile(`msg="app (?:unmounted|mounted|failed to load|reload failed[^"]*)" app=`+m.file+` `)); ok {
							t.Errorf("unexpected: %s", line)
						}
					}
				})
			}
		})
	}
}

// TestReloadConfigMapSwap publishes plugins the way a Kubernetes ConfigMap
// volume does: the files live in a timestamped folder, ..data links to it,
// and each plugin is a link through ..data. An update writes a new folder,
// links ..data_tmp to it, renames ..data_tmp over ..data and removes the
// old folder. The changed plugin reloads; the unchanged one keeps its state.
func TestReloadConfigMapSwap(t *testing.T) {
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			s := startServerFiles(t, "reload", nil, append(mode.flags, "--states", "1")...)
			s.waitLog(t, mode.log)
			in := func(name string) string { return filepath.Join(s.dir, name) }
			publish := func(t *testing.T, version string) string {
				t.Helper()
				dir := "..2026_01_01_" + version
				savePlain(t, in(dir+"/hello.lua"), textApp("hello "+version))
				savePlain(t, in(dir+"/other.lua"), countingApp("other"))
				return dir
			}
			symlink := func(t *testing.T, target, name string) {
				t.Helper()
				if err := os.Symlink(target, in(name)); err != nil {
					t.Fatal(err)
				}
			}

			// What the kubelet does when it mounts the volume.
			current := publish(t, "v1")
			symlink(t, current, "..data")
			symlink(t, "..data/hello.lua", "hello.lua")
			symlink(t, "..data/other.lua", "other.lua")
			awaitAnswer(t, s, "/hello", http.StatusOK, "hello v1")
			r := awaitMounted(t, s, "/other")
			count, err := strconv.Atoi(strings.TrimPrefix(r.body, "other:"))
			if r.status != http.StatusOK || err != nil {
				t.Fatalf("GET /other: %d %q, want 200 other:N", r.status, r.body)
			}

			for _, version := range []string{"v2", "v3"} {
				t.Run(version, func(t *testing.T) {
					mark := s.log.len()
					next := publish(t, version)
					symlink(t, next, "..data_tmp")
					if err := os.Rename(in("..data_tmp"), in("..data")); err != nil {
						t.Fatal(err)
					}
					if err := os.RemoveAll(in(current)); err != nil {
						t.Fatal(err)
					}
					current = next
					awaitLogSince(t, s, mark, reloadedRE("hello"))
					expectNext(t, s, "GET /hello after the swap", "/hello", http.StatusOK, "hello "+version)
					count++
					s.get(t, "/other").expect(t, "GET /other, unchanged by the swap", http.StatusOK, fmt.Sprintf("other:%d", count))
					if n := countSince(s, mark, reloadedRE("other")); n != 0 {
						t.Errorf("the unchanged plugin was reloaded %d times", n)
					}
				})
			}
		})
	}
}

// TestReloadSIGHUP sends SIGHUP, with watching on and off: every plugin
// reloads, changed or not, and a reloaded plugin starts with fresh
// module-level state.
func TestReloadSIGHUP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"watching", nil},
		{"reload=false", []string{"--reload=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServerFiles(t, "reload", nil, append(tc.flags, "--states", "1")...)
			s.get(t, "/counter").expect(t, "GET /counter", http.StatusOK, "counter:1")
			s.get(t, "/counter").expect(t, "GET /counter", http.StatusOK, "counter:2")
			mark := s.log.len()
			if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			awaitLogSince(t, s, mark, regexp.MustCompile(`msg="SIGHUP: reloading every app"`))
			for _, app := range []string{"counter", "site"} {
				awaitLogSince(t, s, mark, reloadedRE(app))
			}
			s.get(t, "/counter").expect(t, "GET /counter after SIGHUP", http.StatusOK, "counter:1")
			s.get(t, "/site").expect(t, "GET /site after SIGHUP", http.StatusOK, "greeting-v1 words-v1")
		})
	}
}

// TestReloadDisabled checks --reload=false: nothing watches the folder, so
// an edit and a new plugin stay unseen; SIGHUP then picks both up.
func TestReloadDisabled(t *testing.T) {
	s := startServerFiles(t, "reload", map[string]string{"page.lua": textApp("page v1")}, "--reload=false")
	if line, ok := s.log.find(regexp.MustCompile(`plugins for changes`)); ok {
		t.Errorf("--reload=false, yet: %s", line)
	}
	s.get(t, "/page").expect(t, "GET /page", http.StatusOK, "page v1")
	mark := s.log.len()
	savePlain(t, filepath.Join(s.dir, "page.lua"), textApp("page v2"))
	saveAtomic(t, filepath.Join(s.dir, "fresh.lua"), textApp("fresh"))

	// Nothing can be waited for here: keep asking for four times the
	// longest a watching server takes to react (its debounce bound, 250 ms).
	window := time.Now().Add(time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(window) {
		s.get(t, "/page").expect(t, "GET /page after an edit with --reload=false", http.StatusOK, "page v1")
		s.get(t, "/fresh").expect(t, "GET /fresh, added with --reload=false", http.StatusNotFound, notFoundBody)
		if t.Failed() {
			return
		}
		<-tick.C
	}
	// (Not the "app at URL" lines, which may follow the first response.)
	if line, ok := findSince(s, mark, regexp.MustCompile(`msg="app (?:mounted|reloaded|restored|unmounted|assets changed|reload failed|failed to load)`)); ok {
		t.Errorf("--reload=false, yet: %s", line)
	}

	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	awaitLogSince(t, s, mark, reloadedRE("page"))
	awaitAnswer(t, s, "/page", http.StatusOK, "page v2")
	awaitAnswer(t, s, "/fresh", http.StatusOK, "fresh")
}
