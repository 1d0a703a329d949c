package host

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseAccessFormat(t *testing.T) {
	tests := []struct {
		desc, format string
		wantErr      string // "" for none
		atoms        int
	}{
		{"the default line", "", "", 0},
		{"common", "common", "", 13},
		{"combined", "combined", "", 18},
		{"literal percent", "100%% %(s)s", "", 2},
		{"header atoms", "%({x-real-ip}i)s %({content-type}o)s %({lsgi.request_id}e)s", "", 5},
		{"unknown atom", "%(z)s", `unknown atom "z"`, 0},
		{"unknown named kind", "%({x}q)s", `unknown atom "{x}q"`, 0},
		{"not an s conversion", "%(s)d", "want %(NAME)s", 0},
		{"a lone percent", "50% off", "want %(NAME)s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			f, err := parseAccessFormat(tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parse %q: err %v, want one containing %q", tt.format, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(f) != tt.atoms {
				t.Errorf("parse %q = %d pieces, %v; want %d", tt.format, len(f), err, tt.atoms)
			}
		})
	}
}

// TestAccessLogFormats serves one request per format and checks the line
// the access log wrote.
func TestAccessLogFormats(t *testing.T) {
	app := App{Mount: "/app", Name: "app", Source: `return function(e, sr)
		sr("201 Created", {{"Content-Type", "text/plain"}, {"X-Out", "yes"}})
		return {"hello"}
	end`}
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		desc, format, target string
		header               [][2]string
		want                 string // a regexp of the whole line
	}{
		{"the default line", "", "/app/x?y=1", nil,
			`^192\.0\.2\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /app/x\?y=1 HTTP/1\.1" 201 5 \d+\.\d{6}$`},
		{"common", "common", "/app/x", nil,
			`^192\.0\.2\.1 - - \[[^]]+\] "GET /app/x HTTP/1\.1" 201 5$`},
		{"combined", "combined", "/app/x", [][2]string{{"Referer", "http://ref/"}, {"User-Agent", "curl/8"}},
			`^192\.0\.2\.1 - - \[[^]]+\] "GET /app/x HTTP/1\.1" 201 5 "http://ref/" "curl/8"$`},
		{"combined without referrer", "combined", "/app/x", nil,
			`^192\.0\.2\.1 - - \[[^]]+\] "GET /app/x HTTP/1\.1" 201 5 "-" "-"$`},
		{"basic auth user", "%(u)s", "/app", [][2]string{{"Authorization", "Basic YW5uOnNlY3JldA=="}}, `^ann$`},
		{"method, path, query, protocol", "%(m)s %(U)s %(q)s %(H)s", "/app/a%20b?x=1&y", nil, `^GET /app/a%20b x=1&y HTTP/1\.1$`},
		{"durations", "%(T)s %(M)s %(D)s %(L)s", "/app", nil, `^\d+ \d+ \d+ \d+\.\d{6}$`},
		{"process id", "%(p)s", "/app", nil, `^<` + pid + `>$`},
		{"request and response headers", "%({x-forwarded-for}i)s %({X-Out}o)s %({content-type}o)s %({missing}o)s", "/app",
			[][2]string{{"X-Forwarded-For", "203.0.113.9"}}, `^203\.0\.113\.9 yes text/plain -$`},
		{"a header the environ drops", "%({x_odd}i)s", "/app", [][2]string{{"X_Odd", "kept"}}, `^kept$`},
		{"environ variables", "%({SCRIPT_NAME}e)s %({PATH_INFO}e)s", "/app/z", nil, `^/app /z$`},
		{"the request id two ways", "%({lsgi.request_id}e)s %({x-request-id}o)s", "/app", nil, `^(\S+-\w+) (\S+-\w+)$`},
		{"a request no mount takes", "%(s)s %(b)s %({content-type}o)s %({PATH_INFO}e)s %(a)s", "/nowhere", [][2]string{{"User-Agent", "ua"}},
			`^404 14 text/plain; charset=utf-8 - ua$`},
		{"forged quotes and newlines are escaped", `"%(a)s"`, "/app", [][2]string{{"User-Agent", "x\" \"y"}}, `^"x\\x22 \\x22y"$`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			log := &syncBuffer{}
			h, err := New(Config{Plugins: []PluginSource{app}, AccessLog: log, AccessLogFormat: tt.format,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", tt.target, nil)
			req.RemoteAddr = "192.0.2.1:4321"
			for _, kv := range tt.header {
				req.Header.Add(kv[0], kv[1])
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			h.Close()
			line := strings.TrimSuffix(log.String(), "\n")
			m := regexp.MustCompile(tt.want).FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("format %q logged\n%s\nwant it to match %s", tt.format, line, tt.want)
			}
			if len(m) == 3 && m[1] != m[2] {
				t.Errorf("the environ's id %q and the response's %q differ", m[1], m[2])
			}
		})
	}
}
