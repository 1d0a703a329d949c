package tests

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// lsgi.session and lsgi.config over HTTP, against testdata/shared/site.

// sessionCookie returns the lsgi_session cookie a response sets ("" for
// none) and the whole Set-Cookie line.
func sessionCookie(t *testing.T, r *response) (value, line string) {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(line, "lsgi_session="); ok {
			value, _, _ = strings.Cut(v, ";")
			return value, line
		}
	}
	return "", ""
}

// as sends GET path with the session cookie value ("" for none).
func as(t *testing.T, s *server, cookie, path string, header ...string) *response {
	t.Helper()
	if cookie != "" {
		header = append(header, "Cookie", "lsgi_session="+cookie)
	}
	return s.request(t, http.MethodGet, path, nil, header...)
}

var csrfInputRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestSessions(t *testing.T) {
	s := startServer(t, "shared")
	r := as(t, s, "", "/site/whoami")
	r.expect(t, "no session yet", 200, "anonymous")
	if c, _ := sessionCookie(t, r); c != "" {
		t.Errorf("an empty session set a cookie: %q", c)
	}

	// Login sets the cookie; the next request sees the data.
	r = as(t, s, "", "/site/login?user=ann")
	r.expect(t, "login", 200, "welcome ann")
	ann, line := sessionCookie(t, r)
	if !regexp.MustCompile(`^lsgi_session=[\w-]+\.[\w-]+; Path=/site; HttpOnly; SameSite=Lax$`).MatchString(line) {
		t.Errorf("the login cookie: %q", line)
	}
	as(t, s, ann, "/site/whoami").expect(t, "logged in", 200, "ann")
	as(t, s, ann, "/site/visit").expect(t, "first visit", 200, "1")
	as(t, s, ann, "/site/visit").expect(t, "second visit", 200, "2")

	// A tampered cookie is refused (and cleared).
	id, sig, _ := strings.Cut(ann, ".")
	for _, bad := range []string{id + "." + strings.ToUpper(sig), id + "x." + sig, id, "garbage"} {
		r := as(t, s, bad, "/site/whoami")
		r.expect(t, "tampered "+bad, 200, "anonymous")
		if _, line := sessionCookie(t, r); !strings.Contains(line, "Max-Age=0") {
			t.Errorf("a tampered cookie is not cleared: %q", line)
		}
	}

	// Logging in again regenerates the id: the old cookie is dead.
	r = as(t, s, ann, "/site/login?user=bob")
	bob, _ := sessionCookie(t, r)
	if bob == "" || bob == ann {
		t.Fatalf("regenerate gave cookie %q (was %q)", bob, ann)
	}
	as(t, s, bob, "/site/visit").expect(t, "the data moved with the session", 200, "3")
	as(t, s, ann, "/site/whoami").expect(t, "the old id", 200, "anonymous")

	// Logout destroys the session and clears the cookie.
	r = as(t, s, bob, "/site/logout")
	r.expect(t, "logout", 200, "bye")
	if _, line := sessionCookie(t, r); !strings.Contains(line, "Max-Age=0") {
		t.Errorf("logout does not clear the cookie: %q", line)
	}
	as(t, s, bob, "/site/whoami").expect(t, "after logout", 200, "anonymous")

	// Behind a trusted proxy speaking https, the cookie is Secure.
	r = as(t, s, "", "/site/login", "X-Forwarded-Proto", "https")
	if _, line := sessionCookie(t, r); !strings.Contains(line, "; Secure") {
		t.Errorf("no Secure under https: %q", line)
	}

	// The generated secret is in the data folder, for the owner only.
	st, err := os.Stat(filepath.Join(filepath.Dir(s.dir), "data", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("data/secret has mode %v", st.Mode().Perm())
	}
}

func TestCSRF(t *testing.T) {
	s := startServer(t, "shared")
	r := as(t, s, "", "/site/form")
	cookie, _ := sessionCookie(t, r)
	m := csrfInputRE.FindStringSubmatch(r.body)
	if cookie == "" || m == nil {
		t.Fatalf("the form: cookie %q, body %q", cookie, r.body)
	}
	token := m[1]
	post := func(form url.Values, header ...string) *response {
		t.Helper()
		header = append(header, "Content-Type", "application/x-www-form-urlencoded", "Cookie", "lsgi_session="+cookie)
		return s.request(t, http.MethodPost, "/site/post", strings.NewReader(form.Encode()), header...)
	}
	post(url.Values{"note": {"hi"}}).expectStatus(t, "no token", http.StatusForbidden)
	post(url.Values{"note": {"hi"}, "csrf_token": {token + "x"}}).expectStatus(t, "a wrong token", http.StatusForbidden)
	other := csrfInputRE.FindStringSubmatch(as(t, s, "", "/site/form").body)[1]
	post(url.Values{"note": {"hi"}, "csrf_token": {other}}).expectStatus(t, "another session's token", http.StatusForbidden)
	post(url.Values{"note": {"hi"}, "csrf_token": {token}}).expect(t, "the right token", 200, "note: hi")
	post(url.Values{"note": {"js"}}, "X-CSRF-Token", token).expect(t, "the token in the header", 200, "note: js")
	// Without the session cookie the token means nothing.
	r = s.request(t, http.MethodPost, "/site/post", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	r.expectStatus(t, "the token without its session", http.StatusForbidden)
}

// TestSessionsTwoHosts: with the sessions in Redis and one secret (here
// generated once in a shared data folder), a session made on one host is
// seen on the other; a host with another secret refuses the cookie.
func TestSessionsTwoHosts(t *testing.T) {
	redis := startRedis(t)
	data := t.TempDir()
	a := startServer(t, "shared", "--shared", redis.URL(0), "--data", data)
	b := startServer(t, "shared", "--shared", redis.URL(0), "--data", data)
	c := startServer(t, "shared", "--shared", redis.URL(0), "--secret", "another secret, 32 bytes or so")
	r := as(t, a, "", "/site/login?user=cy")
	cookie, _ := sessionCookie(t, r)
	as(t, b, cookie, "/site/whoami").expect(t, "the other host", 200, "cy")
	as(t, b, cookie, "/site/visit").expect(t, "a visit on B", 200, "1")
	as(t, a, cookie, "/site/visit").expect(t, "a visit on A", 200, "2")
	as(t, c, cookie, "/site/whoami").expect(t, "a host with another secret", 200, "anonymous")
}

func TestConfigEnv(t *testing.T) {
	t.Setenv("LSGI_E2E_GREETING", "hello")
	s := startServer(t, "shared", "--env", "LSGI_E2E_*")
	s.get(t, "/site/config").expect(t, "an allowed variable and config.json", 200, "hello | E2E site")
	s.get(t, "/site/config/home").expectStatus(t, "a variable not allowed", http.StatusInternalServerError)
	s.waitLog(t, regexp.MustCompile(`the environment variable HOME is not open to apps: start the host with --env HOME`))

	closed := startServer(t, "shared")
	closed.get(t, "/site/config").expectStatus(t, "without --env", http.StatusInternalServerError)
	closed.waitLog(t, regexp.MustCompile(`LSGI_E2E_GREETING is not open to apps`))
}
