package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/adler32"
	"math/rand/v2"
	"net/http"
	"net/url"
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

// The examples in ../examples, served as users run them: `lsgi serve
// examples/seeds` and `lsgi serve examples`, each also under --dev, where
// lsgi.validator checks every request. The server works on a copy of the
// folder, so the examples are never changed.

// exModes are the two ways the examples are run.
var exModes = []struct {
	name  string
	flags []string
}{
	{"serve", nil},
	{"serve --dev", []string{"--dev"}},
}

// exFile reads a file of ../examples.
func exFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExampleSeedsToolkit serves examples/seeds and checks the seeds'
// Router and header-adding Middleware written with the toolkit:
// router_toolkit.lua (lsgi.router) and headers_toolkit.lua
// (lsgi.middleware.headers).
func TestExampleSeedsToolkit(t *testing.T) {
	for _, mode := range exModes {
		t.Run(mode.name, func(t *testing.T) {
			s := startServer(t, "../../examples/seeds", mode.flags...)
			for _, tc := range []struct {
				method, path string
				status       int
				body         string
				header       map[string]string
			}{
				{"GET", "/router_toolkit/hello", 200, "Hello",
					map[string]string{"Content-Type": "text/plain", "Content-Length": "5"}},
				{"GET", "/router_toolkit/world", 200, "World!", map[string]string{"Content-Type": "text/plain"}},
				{"POST", "/router_toolkit/world", 200, "World!", nil}, // r:any, like the seed's table
				{"GET", "/router_toolkit/hello/Ann", 200, "Hello, Ann", nil},
				{"GET", "/router_toolkit/hello/%C3%A9l%C3%A9a", 200, "Hello, éléa", nil},
				{"HEAD", "/router_toolkit/hello/Ann", 200, "", map[string]string{"Content-Length": "10"}},
				{"GET", "/router_toolkit/nope", 404, "Not Found\n", nil},
				{"GET", "/router_toolkit", 404, "Not Found\n", nil},
				{"GET", "/router_toolkit/hello/Ann/more", 404, "Not Found\n", nil},
				{"POST", "/router_toolkit/hello/Ann", 405, "Method Not Allowed\n", map[string]string{"Allow": "GET, HEAD"}},

				{"GET", "/headers_toolkit", 200, "Check the headers!", map[string]string{
					"X-A-SIMPLE-TOKEN": "1234567890", "Content-Type": "text/plain", "Cache-Control": "no-store"}},
				{"POST", "/headers_toolkit/any/path", 200, "Check the headers!", map[string]string{
					"X-A-SIMPLE-TOKEN": "1234567890"}},
			} {
				t.Run(tc.method+" "+tc.path, func(t *testing.T) {
					r := s.request(t, tc.method, tc.path, nil)
					r.expect(t, tc.method+" "+tc.path, tc.status, tc.body)
					for name, want := range tc.header {
						if got := r.header.Values(name); len(got) != 1 || got[0] != want {
							t.Errorf("%s: %q, want one %q", name, got, want)
						}
					}
				})
			}
		})
	}
}

// exNote is a note as the notes example sends it.
type exNote struct {
	ID      int      `json:"id"`
	Text    string   `json:"text"`
	Author  *string  `json:"author"`
	Tags    []string `json:"tags"`
	Created string   `json:"created"`
}

// exList is what GET /notes/api/notes answers.
type exList struct {
	Count int      `json:"count"`
	Notes []exNote `json:"notes"`
}

// exIDs returns the ids of notes.
func exIDs(notes []exNote) []int {
	ids := []int{}
	for _, n := range notes {
		ids = append(ids, n.ID)
	}
	return ids
}

// exJSON checks a JSON response's status and decodes its body.
func exJSON(t *testing.T, what string, r *response, status int, v any) {
	t.Helper()
	r.expectStatus(t, what, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%s: decoding %q: %v", what, r.body, err)
	}
}

// TestExampleNotes serves examples/ with the default flags and runs the
// notes example through what a user does: the page, the JSON API with forms
// and JSON, an upload, static files and gzip; then many clients at once,
// a reload and a restart, which must all see one list of notes.
func TestExampleNotes(t *testing.T) {
	for _, mode := range exModes {
		t.Run(mode.name, func(t *testing.T) {
			s := startServer(t, "../../examples", mode.flags...)
			exNotesAPI(t, s)
			exNotesUpload(t, s)
			exNotesStatic(t, s)
			exNotesShared(t, s, mode.flags)
		})
	}
}

// TestExampleNotesPostgres runs the notes example on PostgreSQL: the same
// migration and SQL as on SQLite.
func TestExampleNotesPostgres(t *testing.T) {
	pg := startPostgres(t)
	flags := []string{"--db", pg.NewDatabase(t)}
	s := startServer(t, "../../examples", flags...)
	exNotesAPI(t, s)
	exNotesShared(t, s, flags)
}

// exViewsRE finds the page's view count.
var exViewsRE = regexp.MustCompile(`This page has been viewed (\d+) times?\.`)

// exViews fetches the page and returns its view count.
func exViews(t *testing.T, s *server) int {
	t.Helper()
	r := s.get(t, "/notes/")
	r.expectStatus(t, "GET /notes/", http.StatusOK)
	m := exViewsRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("the page shows no view count:\n%s", r.body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// exNotesShared posts notes from many clients at once, so that several Lua
// states serve them, then checks that every state shows the same list, and
// that the list survives a reload of the app and a restart of the server.
func exNotesShared(t *testing.T, s *server, flags []string) {
	const clients, each = 8, 5
	var before exList
	exJSON(t, "GET list", s.get(t, "/notes/api/notes"), http.StatusOK, &before)
	var (
		mu  sync.Mutex
		ids = map[int]bool{}
		wg  sync.WaitGroup
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := fmt.Sprintf(`{"text":"client %d note %d","tags":["c%d"]}`, c, i, c)
				r := s.request(t, http.MethodPost, "/notes/api/notes", strings.NewReader(body), "Content-Type", "application/json")
				var n exNote
				if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &n) != nil {
					t.Errorf("POST from client %d: %d %s", c, r.status, r.body)
					return
				}
				mu.Lock()
				if ids[n.ID] {
					t.Errorf("id %d handed out twice", n.ID)
				}
				ids[n.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	want := before.Count + clients*each
	sameEverywhere := func(what string) {
		t.Helper()
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var l exList
				exJSON(t, what, s.get(t, "/notes/api/notes"), http.StatusOK, &l)
				if l.Count != want || len(l.Notes) != want {
					t.Errorf("%s: %d notes, want %d", what, l.Count, want)
				}
			}()
		}
		wg.Wait()
	}
	t.Run("one list from every state", func(t *testing.T) { sameEverywhere("after concurrent posts") })

	t.Run("page views counted across states", func(t *testing.T) {
		before := exViews(t, s)
		const views = 24
		var wg sync.WaitGroup
		for range views {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.get(t, "/notes/").expectStatus(t, "GET /notes/", http.StatusOK)
			}()
		}
		wg.Wait()
		if got := exViews(t, s); got != before+views+1 {
			t.Errorf("the page says %d views, want %d", got, before+views+1)
		}
	})

	t.Run("kept across a reload", func(t *testing.T) {
		// A new Lua file reloads the app; a template or a static file
		// would not.
		if err := os.WriteFile(filepath.Join(s.dir, "notes", "unused.lua"), []byte("-- a new module reloads the app\nreturn {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		before := exViews(t, s)
		s.waitLog(t, reloadedRE("notes"))
		sameEverywhere("after a reload")
		if got := exViews(t, s); got != before+1 {
			t.Errorf("after a reload the page says %d views, want %d", got, before+1)
		}
	})

	t.Run("kept across a restart", func(t *testing.T) {
		if err := s.terminate(t, syscall.SIGTERM); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if !slices.Contains(flags, "--db") {
			if _, err := os.Stat(filepath.Join(filepath.Dir(s.dir), "data", "notes.db")); err != nil {
				t.Errorf("no data/notes.db beside the plugins folder: %v", err)
			}
		}
		s = startServerAt(t, s.dir, flags...)
		sameEverywhere("after a restart")
		var n exNote
		exJSON(t, "POST after a restart", s.request(t, http.MethodPost, "/notes/api/notes",
			strings.NewReader(`{"text":"after"}`), "Content-Type", "application/json"), http.StatusCreated, &n)
		for id := range ids {
			if n.ID <= id {
				t.Errorf("id %d after the restart is not above %d", n.ID, id)
				break
			}
		}
	})
}

// exNotesAPI checks the page and the JSON API; the notes are created in
// order, so the subtests run in sequence on one server.
func exNotesAPI(t *testing.T, s *server) {
	hostile := "<script>alert(1)</script> & more"

	t.Run("empty", func(t *testing.T) {
		for _, path := range []string{"/notes/", "/notes"} {
			r := s.get(t, path)
			r.expectStatus(t, "GET "+path, http.StatusOK)
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", path, ct)
			}
			for _, want := range []string{"<h2>0 notes</h2>", "No notes yet.", `href="/notes/static/style.css"`,
				`action="/notes/api/notes"`, `action="/notes/upload"`, `enctype="multipart/form-data"`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("GET %s: page lacks %s", path, want)
				}
			}
		}
		s.get(t, "/notes/api/notes").expect(t, "empty list", http.StatusOK, `{"count":0,"notes":[]}`)
	})

	t.Run("create", func(t *testing.T) {
		ctype, multi := tkMultipart(t, []string{"text", "from multipart", "tag", "work"}, nil)
		for i, tc := range []struct {
			name, ctype string
			body        string
			header      []string
			want        exNote
		}{
			{"urlencoded form", "application/x-www-form-urlencoded",
				url.Values{"text": {hostile}, "author": {"Zoë Q"}, "tag": {"work", "ideas", "work"}}.Encode(), nil,
				exNote{ID: 1, Text: hostile, Author: exPtr("Zoë Q"), Tags: []string{"work", "ideas"}}},
			{"JSON", "application/json", `{"text":"from JSON","tags":["x"],"author":null}`, nil,
				exNote{ID: 2, Text: "from JSON", Tags: []string{"x"}}},
			{"multipart form", ctype, multi.String(), nil,
				exNote{ID: 3, Text: "from multipart", Tags: []string{"work"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				hdr := append([]string{"Content-Type", tc.ctype}, tc.header...)
				r := s.request(t, http.MethodPost, "/notes/api/notes", strings.NewReader(tc.body), hdr...)
				var n exNote
				exJSON(t, "POST", r, http.StatusCreated, &n)
				if loc := r.header.Get("Location"); loc != "/notes/api/notes/"+strconv.Itoa(i+1) {
					t.Errorf("Location %q", loc)
				}
				if n.ID != tc.want.ID || n.Text != tc.want.Text || !slices.Equal(n.Tags, tc.want.Tags) ||
					(n.Author == nil) != (tc.want.Author == nil) || (n.Author != nil && *n.Author != *tc.want.Author) {
					t.Errorf("note %+v, want %+v", n, tc.want)
				}
				if _, err := time.Parse(time.RFC3339, n.Created); err != nil {
					t.Errorf("created %q: %v", n.Created, err)
				}
				cookies := (&http.Response{Header: r.header}).Cookies()
				if tc.want.Author == nil {
					if len(cookies) != 0 {
						t.Errorf("cookies %v for a note without author", cookies)
					}
					return
				}
				if len(cookies) != 1 || cookies[0].Name != "notes_author" || cookies[0].Value != "Zo%C3%AB+Q" ||
					cookies[0].Path != "/notes" || !cookies[0].HttpOnly {
					t.Errorf("Set-Cookie %q, want notes_author=Zo%%C3%%AB+Q for /notes, HttpOnly", r.header.Values("Set-Cookie"))
				}
			})
		}

		t.Run("browser form: 303 back to the page", func(t *testing.T) {
			r := s.request(t, http.MethodPost, "/notes/api/notes", strings.NewReader("text=from+a+browser"),
				"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
			r.expectStatus(t, "POST from a browser", http.StatusSeeOther)
			if loc := r.header.Get("Location"); loc != "/notes/" {
				t.Errorf("Location %q, want /notes/", loc)
			}
		})
	})

	t.Run("bad input", func(t *testing.T) {
		const form = "application/x-www-form-urlencoded"
		for _, tc := range []struct {
			name, ctype, body string
			status            int
			message           string
		}{
			{"no text", form, "text=&author=a", 400, "text is required"},
			{"blank text", form, "text=+%20%09", 400, "text is required"},
			{"text too long", form, "text=" + strings.Repeat("x", 2001), 400, "text is longer than 2000 bytes"},
			{"bad tag", form, "text=x&tag=two+words", 400, "a tag is 1 to 30 letters, digits, - or _"},
			{"malformed JSON", "application/json", `{"text":`, 400, "malformed JSON body"},
			{"JSON that is not an object", "application/json", `"just text"`, 400, "expected a JSON object"},
			{"tags not an array", "application/json", `{"text":"x","tags":"work"}`, 400, "tags must be an array of strings"},
			{"author not a string", "application/json", `{"text":"x","author":7}`, 400, "author must be a string of at most 100 bytes"},
			{"plain text body", "text/plain", "hello", 415, "send a form or JSON"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.request(t, http.MethodPost, "/notes/api/notes", strings.NewReader(tc.body), "Content-Type", tc.ctype)
				r.expect(t, tc.name, tc.status, tc.message+"\n")
			})
		}
		s.request(t, http.MethodPut, "/notes/api/notes", nil).expect(t, "PUT", http.StatusMethodNotAllowed, "Method Not Allowed\n")
	})

	t.Run("list and filter by tags", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			ids   []int
		}{
			{"", []int{1, 2, 3, 4}},
			{"?tag=work", []int{1, 3}},
			{"?tag=x&tag=ideas", []int{1, 2}},
			{"?tag=none", []int{}},
		} {
			var l exList
			exJSON(t, "GET list"+tc.query, s.get(t, "/notes/api/notes"+tc.query), http.StatusOK, &l)
			if got := exIDs(l.Notes); !slices.Equal(got, tc.ids) || l.Count != len(tc.ids) {
				t.Errorf("GET /notes/api/notes%s: ids %v (count %d), want %v", tc.query, got, l.Count, tc.ids)
			}
		}
	})

	t.Run("one note, delete", func(t *testing.T) {
		var n exNote
		exJSON(t, "GET note 4", s.get(t, "/notes/api/notes/4"), http.StatusOK, &n)
		if n.ID != 4 || n.Text != "from a browser" || n.Author != nil || len(n.Tags) != 0 {
			t.Errorf("note 4: %+v", n)
		}
		for _, tc := range []struct {
			method, path string
			status       int
			body, allow  string
		}{
			{"GET", "/notes/api/notes/99", 404, "no such note\n", ""},
			{"GET", "/notes/api/notes/abc", 404, "no such note\n", ""},
			{"DELETE", "/notes/api/notes/2", 204, "", ""},
			{"GET", "/notes/api/notes/2", 404, "no such note\n", ""},
			{"DELETE", "/notes/api/notes/2", 404, "no such note\n", ""},
			{"PUT", "/notes/api/notes/1", 405, "Method Not Allowed\n", "DELETE, GET, HEAD"},
			{"PUT", "/notes/api/notes", 405, "Method Not Allowed\n", "GET, HEAD, POST"},
			{"GET", "/notes/api", 404, "Not Found\n", ""},
		} {
			r := s.request(t, tc.method, tc.path, nil)
			r.expect(t, tc.method+" "+tc.path, tc.status, tc.body)
			if allow := r.header.Get("Allow"); allow != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, allow, tc.allow)
			}
		}
	})

	t.Run("page shows the notes, escaped, and the remembered author", func(t *testing.T) {
		r := s.request(t, http.MethodGet, "/notes/", nil, "Cookie", "notes_author=Zo%C3%AB+Q")
		r.expectStatus(t, "GET /notes/", http.StatusOK)
		for _, want := range []string{
			"<h2>3 notes</h2>",
			"<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</p>",
			"by Zoë Q, ",
			`<span class="tag">#work</span> <span class="tag">#ideas</span>`,
			`name="author" value="Zoë Q"`,
		} {
			if !strings.Contains(r.body, want) {
				t.Errorf("page lacks %s\n%s", want, r.body)
			}
		}
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "from JSON") {
			t.Errorf("page holds raw markup or the deleted note:\n%s", r.body)
		}
		browser, multi, first := strings.Index(r.body, "from a browser"), strings.Index(r.body, "from multipart"), strings.Index(r.body, "alert(1)")
		if !(browser >= 0 && browser < multi && multi < first) {
			t.Errorf("notes not newest first (at %d, %d, %d)", browser, multi, first)
		}
		head := s.request(t, http.MethodHead, "/notes/", nil)
		head.expect(t, "HEAD /notes/", http.StatusOK, "")
	})

	t.Run("gzip", func(t *testing.T) {
		for _, path := range []string{"/notes/", "/notes/api/notes"} {
			plain := s.get(t, path)
			r := s.request(t, http.MethodGet, path, nil, "Accept-Encoding", "gzip")
			r.expectStatus(t, "GET "+path, http.StatusOK)
			if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("GET %s: Content-Encoding %q, Vary %q", path, r.header.Get("Content-Encoding"), r.header.Get("Vary"))
				continue
			}
			// The page counts its views: the two answers differ there.
			got, want := exViewsRE.ReplaceAllString(tkGunzip(t, path, r.body), ""), exViewsRE.ReplaceAllString(plain.body, "")
			if got != want {
				t.Errorf("GET %s: decompressed body differs from the plain one:\n%s\n%s", path, got, want)
			}
		}
	})
}

// exNotesUpload checks POST /notes/upload.
func exNotesUpload(t *testing.T, s *server) {
	rng := rand.New(rand.NewPCG(1, 2))
	photo := make([]byte, 200_000)
	for i := range photo {
		photo[i] = byte(rng.Uint32())
	}
	type answer struct {
		Name        string `json:"name"`
		Size        int    `json:"size"`
		ContentType string `json:"content_type"`
		Adler32     string `json:"adler32"`
	}
	t.Run("upload", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			file     tkUpload
			wantName string
		}{
			{"binary file", tkUpload{"file", "photo.bin", "application/octet-stream", photo}, "photo.bin"},
			{"path in the name", tkUpload{"file", "../../etc/passwd", "text/plain", []byte("not really\n")}, "passwd"},
			{"Windows path in the name", tkUpload{"file", `C:\Users\ann\photo.png`, "image/png", photo[:999]}, "photo.png"},
			{"empty file", tkUpload{"file", "empty.txt", "text/plain", nil}, "empty.txt"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctype, body := tkMultipart(t, []string{"comment", "a field before the file"}, []tkUpload{tc.file})
				var a answer
				exJSON(t, "POST /notes/upload", s.request(t, http.MethodPost, "/notes/upload", body, "Content-Type", ctype), http.StatusOK, &a)
				want := answer{tc.wantName, len(tc.file.data), tc.file.contentType, fmt.Sprintf("%08x", adler32.Checksum(tc.file.data))}
				if a != want {
					t.Errorf("got %+v, want %+v", a, want)
				}
			})
		}

		ctype, body := tkMultipart(t, []string{"file", "a field, not a file"}, nil)
		s.request(t, http.MethodPost, "/notes/upload", body, "Content-Type", ctype).
			expect(t, "no file", http.StatusBadRequest, "no file in the field \"file\"\n")
		s.request(t, http.MethodPost, "/notes/upload", strings.NewReader("file=x"), "Content-Type", "application/x-www-form-urlencoded").
			expect(t, "not multipart", http.StatusUnsupportedMediaType, "send multipart/form-data\n")
		s.get(t, "/notes/upload").expect(t, "GET /notes/upload", http.StatusMethodNotAllowed, "Method Not Allowed\n")

		ctype, body = tkMultipart(t, nil, []tkUpload{{"file", "big.bin", "", bytes.Repeat([]byte("x"), 4<<20)}})
		r := s.request(t, http.MethodPost, "/notes/upload", body, "Content-Type", ctype)
		r.expectStatus(t, "upload over 4 MiB", http.StatusRequestEntityTooLarge)
	})
}

// exNotesStatic checks the files under /notes/static/.
func exNotesStatic(t *testing.T, s *server) {
	t.Run("static files", func(t *testing.T) {
		css := exFile(t, "notes/static/style.css")
		r := s.get(t, "/notes/static/style.css")
		r.expect(t, "style.css", http.StatusOK, css)
		for name, want := range map[string]string{
			"Content-Type":   "text/css; charset=utf-8",
			"Content-Length": strconv.Itoa(len(css)),
			"Cache-Control":  "public, max-age=3600",
		} {
			if got := r.header.Get(name); got != want {
				t.Errorf("style.css %s: %q, want %q", name, got, want)
			}
		}
		etag := r.header.Get("ETag")
		s.request(t, http.MethodGet, "/notes/static/style.css", nil, "If-None-Match", etag).
			expect(t, "If-None-Match", http.StatusNotModified, "")
		s.request(t, http.MethodGet, "/notes/static/style.css", nil, "Range", "bytes=0-1").
			expect(t, "Range", http.StatusPartialContent, css[:2])

		gz := s.request(t, http.MethodGet, "/notes/static/style.css", nil, "Accept-Encoding", "gzip")
		if gz.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("style.css with Accept-Encoding gzip: Content-Encoding %q", gz.header.Get("Content-Encoding"))
		} else if got := tkGunzip(t, "style.css", gz.body); got != css {
			t.Errorf("decompressed style.css differs from the file")
		}

		s.get(t, "/notes/static/robots.txt").expect(t, "robots.txt", http.StatusOK, exFile(t, "notes/static/robots.txt"))
		s.get(t, "/notes/static/missing.css").expect(t, "a missing file", http.StatusNotFound, "Not Found\n")
		for _, target := range []string{"/notes/static/../init.lua", "/notes/static/%2e%2e/init.lua", "/notes/static/..%2ftemplates%2findex.html"} {
			c := s.dial(t)
			c.send(rawRequest("GET", target, nil, ""))
			if r := c.read("GET"); r.StatusCode != http.StatusNotFound || strings.Contains(r.body, "require") || strings.Contains(r.body, "define") {
				t.Errorf("GET %s: %d %q, want 404 without the app's files", target, r.StatusCode, r.body)
			}
		}
	})
}

// exPtr returns a pointer to v.
func exPtr[T any](v T) *T { return &v }
