package tests

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lsgi.shared over HTTP, against the real binary serving a copy of
// testdata/shared:
//
//	counter.lua   a hit counter: concurrency, Redis, two hosts behind nginx
//	dict.lua      set, get, ttl, LRU eviction, a value larger than the cap
//	site/         sessions, CSRF and lsgi.config (sessions_test.go)

// hammer sends workers x each GET path requests from workers goroutines,
// each with its own keep-alive connection, and returns the bodies.
func hammer(t *testing.T, base string, workers, each int, path string) []string {
	t.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		bodies []string
		errs   = make(chan error, workers)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := testClient(t, "")
			for i := 0; i < each; i++ {
				resp, err := client.Get(base + path)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("GET %s: %d %q %v", path, resp.StatusCode, body, err)
					return
				}
				mu.Lock()
				bodies = append(bodies, string(body))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return bodies
}

// checkCount checks that the counts answered are exactly 1..n, each once,
// and returns how many Lua states answered.
func checkCount(t *testing.T, bodies []string, n int) int {
	t.Helper()
	seen := make([]bool, n+1)
	states := map[string]bool{}
	for _, b := range bodies {
		count, state, _ := strings.Cut(b, " ")
		i, err := strconv.Atoi(count)
		if err != nil || i < 1 || i > n || seen[i] {
			t.Fatalf("answer %q: a count out of 1..%d, or twice", b, n)
		}
		seen[i] = true
		states[state] = true
	}
	return len(states)
}

// TestSharedCounterMemory: 8 clients x 1000 increments through several Lua
// states of one host give exactly 8000, every count answered once.
func TestSharedCounterMemory(t *testing.T) {
	s := startServer(t, "shared", "--states", "4", "--access-log", "off")
	bodies := hammer(t, s.base, 8, 1000, "/counter")
	if states := checkCount(t, bodies, 8000); states < 2 {
		t.Errorf("only %d Lua state answered; the test needs several", states)
	}
	s.get(t, "/counter/get").expect(t, "the final count", 200, "8000")
}

// TestSharedCounterRedis: the same with the counter in Redis; then Redis
// goes away (the app gets a Lua error it can catch, the client a 500, and
// nothing hangs) and comes back.
func TestSharedCounterRedis(t *testing.T) {
	redis := startRedis(t)
	s := startServer(t, "shared", "--states", "4", "--access-log", "off", "--shared", redis.URL(2), "--timeout", "3s")
	checkCount(t, hammer(t, s.base, 8, 1000, "/counter"), 8000)
	s.get(t, "/counter/get").expect(t, "the final count", 200, "8000")

	redis.Stop()
	start := time.Now()
	r := s.get(t, "/counter")
	r.expectStatus(t, "an increment with Redis gone", http.StatusInternalServerError)
	s.waitLog(t, regexp.MustCompile(`lsgi\.shared: hits:incr\(\\?"n\\?"\): dict: redis`))
	r = s.get(t, "/counter/catch")
	r.expectStatus(t, "a caught failure", http.StatusServiceUnavailable)
	if !strings.Contains(r.body, "store failed:") || !strings.Contains(r.body, "lsgi.shared: hits:incr") {
		t.Errorf("the app caught %q", r.body)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("answering with Redis gone took %v", took)
	}

	redis.Restart() // empty again
	var body string
	for i := 0; i < 50; i++ {
		if r := s.get(t, "/counter/catch"); r.status == 200 {
			body = r.body
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body != "1" {
		t.Fatalf("after Redis came back: %q, want 1", body)
	}
}

// TestSharedRedisHangs: a Redis that stops answering makes requests fail at
// the request's deadline, never hang.
func TestSharedRedisHangs(t *testing.T) {
	redis := startRedis(t)
	s := startServer(t, "shared", "--shared", redis.URL(0), "--timeout", "1s")
	s.get(t, "/counter/get").expect(t, "before", 200, "0")
	redis.Pause()
	defer redis.Resume()
	start := time.Now()
	r := s.get(t, "/counter/catch")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the request took %v with a 1s deadline", took)
	}
	if r.status != http.StatusGatewayTimeout && r.status != http.StatusServiceUnavailable {
		t.Errorf("status %d (%q), want 504 or the app's 503", r.status, r.body)
	}
}

// TestSharedTwoHosts: two lsgi serve instances behind an nginx upstream
// share a counter through Redis: N increments spread over both give N.
func TestSharedTwoHosts(t *testing.T) {
	lookTool(t, "nginx", "nginx-light")
	redis := startRedis(t)
	a := startServer(t, "shared", "--shared", redis.URL(0))
	b := startServer(t, "shared", "--shared", redis.URL(0))
	upstream := "  upstream lsgi_pair {\n    server " + a.addr + ";\n    server " + b.addr + ";\n    keepalive 8;\n  }\n"
	location := "    location / {\n      proxy_pass http://lsgi_pair;\n      proxy_http_version 1.1;\n" +
		"      proxy_set_header Connection \"\";\n    }\n"
	ng := startNginxHTTP(t, upstream, location, false)
	const workers, each = 4, 250
	checkCount(t, hammer(t, ng.base, workers, each, "/counter"), workers*each)
	want := strconv.Itoa(workers * each)
	a.get(t, "/counter/get").expect(t, "host A's count", 200, want)
	b.get(t, "/counter/get").expect(t, "host B's count", 200, want)
	// Each host logs a request once it has answered it: wait for the last.
	hits := regexp.MustCompile(`"GET /counter HTTP/1\.[01]" 200`)
	na, nb := a.log.count(hits), b.log.count(hits)
	for deadline := time.Now().Add(logTimeout); na+nb < workers*each && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		na, nb = a.log.count(hits), b.log.count(hits)
	}
	if na+nb != workers*each || na < workers*each/4 || nb < workers*each/4 {
		t.Errorf("nginx spread the requests %d / %d; want both hosts to serve a good share of %d", na, nb, workers*each)
	}
}

// TestSharedDict: TTL expiry, LRU eviction at the cap, and a value larger
// than the cap, over HTTP on the memory store.
func TestSharedDict(t *testing.T) {
	s := startServer(t, "shared")
	s.get(t, "/dict/set?k=a&v=hello&ttl=1").expect(t, "set with a ttl", 200, "true false")
	s.get(t, "/dict/get?k=a").expect(t, "get", 200, "hello")
	s.get(t, "/dict/set?k=b&v=forever").expect(t, "set without a ttl", 200, "true false")
	deadline := time.Now().Add(10 * time.Second)
	for s.get(t, "/dict/get?k=a").body != "nil" {
		if time.Now().After(deadline) {
			t.Fatal("a value set with a 1 s ttl did not expire")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.get(t, "/dict/ttl?k=a").expect(t, "ttl of the expired key", 200, "nil")
	s.get(t, "/dict/get?k=b").expect(t, "the other key", 200, "forever")

	// 500 bytes per item (key, value and bookkeeping): 8 fill 4 KiB.
	for i := 0; i < 8; i++ {
		s.get(t, fmt.Sprintf("/dict/small/set?k=k%d&size=370", i)).expect(t, "fill", 200, "true false")
	}
	s.get(t, "/dict/small/get?k=k0").expect(t, "k0", 200, "370") // k1 is now the oldest
	s.get(t, "/dict/small/set?k=k8&size=370").expect(t, "one more: forcible", 200, "true true")
	s.get(t, "/dict/small/get?k=k1").expect(t, "k1 evicted", 200, "nil")
	for _, k := range []string{"k0", "k2", "k7", "k8"} {
		s.get(t, "/dict/small/get?k="+k).expect(t, k+" kept", 200, "370")
	}

	s.get(t, "/dict/big").expectStatus(t, "a value larger than the cap, uncaught", http.StatusInternalServerError)
	s.waitLog(t, regexp.MustCompile(`lsgi\.shared: small:set\(\\?"big\\?"\): dict: item larger than the dictionary`))
	r := s.get(t, "/dict/big/caught")
	r.expectStatus(t, "caught", 200)
	for _, part := range []string{"does not fit in dictionary", "of 4096 bytes", "declare a larger size"} {
		if !strings.Contains(r.body, part) {
			t.Errorf("the caught error %q lacks %q", r.body, part)
		}
	}
	s.get(t, "/dict/small/get?k=k8").expect(t, "the dictionary still works", 200, "370")
}

// TestSharedSurvivesReload: the dictionaries outlive app versions.
func TestSharedSurvivesReload(t *testing.T) {
	s := startServer(t, "shared")
	for i := 1; i <= 3; i++ {
		s.get(t, "/counter/catch").expect(t, "count", 200, strconv.Itoa(i))
	}
	mark := s.log.len()
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	awaitLogSince(t, s, mark, reloadedRE("counter"))
	s.get(t, "/counter/catch").expect(t, "after the reload", 200, "4")
}
