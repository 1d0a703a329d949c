package environ_test

import (
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

// validVars is a minimal environ that passes Check.
func validVars() environ.Vars {
	return environ.Vars{
		{"REQUEST_METHOD", "GET"},
		{"SCRIPT_NAME", ""},
		{"PATH_INFO", "/"},
		{"QUERY_STRING", ""},
		{"SERVER_NAME", "localhost"},
		{"SERVER_PORT", "80"},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"lsgi.url_scheme", "http"},
	}
}

// edit returns validVars with name set to value; value "<absent>" removes it.
func edit(pairs ...string) environ.Vars {
	vars := validVars()
	for i := 0; i < len(pairs); i += 2 {
		name, value := pairs[i], pairs[i+1]
		found := false
		for j := range vars {
			if vars[j].Name == name {
				found = true
				if value == "<absent>" {
					vars = append(vars[:j], vars[j+1:]...)
				} else {
					vars[j].Value = value
				}
				break
			}
		}
		if !found && value != "<absent>" {
			vars = append(vars, environ.Var{Name: name, Value: value})
		}
	}
	return vars
}

func TestCheck(t *testing.T) {
	tests := []struct {
		desc string
		vars environ.Vars
		want string // a substring of the error; "" for nil
	}{
		{"minimal", validVars(), ""},
		{"mount root without slash", edit("SCRIPT_NAME", "/app", "PATH_INFO", ""), ""},
		{"mount with path", edit("SCRIPT_NAME", "/app", "PATH_INFO", "/x/"), ""},
		{"all optional", edit("CONTENT_LENGTH", "0", "CONTENT_TYPE", "", "HTTPS", "on", "lsgi.url_scheme", "https",
			"REMOTE_ADDR", "::1", "REMOTE_PORT", "5555", "HTTP_X_EMPTY", "", "HTTP_X_A", "1"), ""},
		{"server extension", edit("lsgi.anything", "x", "example.thing", "y"), ""},

		{"empty name", append(validVars(), environ.Var{Name: "", Value: "x"}), "empty name"},
		{"duplicate", append(validVars(), environ.Var{Name: "PATH_INFO", Value: "/"}), "PATH_INFO appears more than once"},

		{"no REQUEST_METHOD", edit("REQUEST_METHOD", "<absent>"), "REQUEST_METHOD is missing"},
		{"no SCRIPT_NAME", edit("SCRIPT_NAME", "<absent>"), "SCRIPT_NAME is missing"},
		{"no PATH_INFO", edit("PATH_INFO", "<absent>"), "PATH_INFO is missing"},
		{"no QUERY_STRING", edit("QUERY_STRING", "<absent>"), "QUERY_STRING is missing"},
		{"no SERVER_NAME", edit("SERVER_NAME", "<absent>"), "SERVER_NAME is missing"},
		{"no SERVER_PORT", edit("SERVER_PORT", "<absent>"), "SERVER_PORT is missing"},
		{"no SERVER_PROTOCOL", edit("SERVER_PROTOCOL", "<absent>"), "SERVER_PROTOCOL is missing"},
		{"no url_scheme", edit("lsgi.url_scheme", "<absent>"), "lsgi.url_scheme is missing"},

		{"empty REQUEST_METHOD", edit("REQUEST_METHOD", ""), "REQUEST_METHOD is empty"},
		{"empty SERVER_NAME", edit("SERVER_NAME", ""), "SERVER_NAME is empty"},
		{"empty SERVER_PORT", edit("SERVER_PORT", ""), "SERVER_PORT is empty"},
		{"empty SERVER_SOFTWARE", edit("SERVER_SOFTWARE", ""), "SERVER_SOFTWARE is empty"},
		{"empty GATEWAY_INTERFACE", edit("GATEWAY_INTERFACE", ""), "GATEWAY_INTERFACE is empty"},
		{"empty REQUEST_URI", edit("REQUEST_URI", ""), "REQUEST_URI is empty"},
		{"empty REMOTE_ADDR", edit("REMOTE_ADDR", ""), "REMOTE_ADDR is empty"},
		{"empty REMOTE_PORT", edit("REMOTE_PORT", ""), "REMOTE_PORT is empty"},
		{"empty HTTPS", edit("HTTPS", ""), "HTTPS is empty"},

		{"SERVER_PORT not decimal", edit("SERVER_PORT", "http"), "SERVER_PORT is not a decimal number"},
		{"SERVER_PORT signed", edit("SERVER_PORT", "+80"), "SERVER_PORT is not a decimal number"},
		{"REMOTE_PORT not decimal", edit("REMOTE_PORT", "x"), "REMOTE_PORT is not a decimal number"},
		{"CONTENT_LENGTH empty", edit("CONTENT_LENGTH", ""), "CONTENT_LENGTH is not a decimal number"},
		{"CONTENT_LENGTH negative", edit("CONTENT_LENGTH", "-1"), "CONTENT_LENGTH is not a decimal number"},
		{"CONTENT_LENGTH spaced", edit("CONTENT_LENGTH", "1 2"), "CONTENT_LENGTH is not a decimal number"},

		{"url_scheme ftp", edit("lsgi.url_scheme", "ftp"), "lsgi.url_scheme is \"ftp\""},
		{"url_scheme upper case", edit("lsgi.url_scheme", "HTTP"), "lsgi.url_scheme is \"HTTP\""},
		{"HTTPS not on", edit("HTTPS", "1", "lsgi.url_scheme", "https"), "HTTPS is \"1\""},
		{"HTTPS with http", edit("HTTPS", "on"), "HTTPS is \"on\" but lsgi.url_scheme"},

		{"SCRIPT_NAME slash", edit("SCRIPT_NAME", "/"), "SCRIPT_NAME is \"/\""},
		{"SCRIPT_NAME relative", edit("SCRIPT_NAME", "app"), "SCRIPT_NAME \"app\""},
		{"SCRIPT_NAME trailing slash", edit("SCRIPT_NAME", "/app/"), "SCRIPT_NAME \"/app/\""},
		{"PATH_INFO relative", edit("PATH_INFO", "x"), "PATH_INFO \"x\""},
		{"PATH_INFO empty at root", edit("PATH_INFO", ""), "PATH_INFO is \"\" at the root"},

		{"HTTP_CONTENT_TYPE", edit("HTTP_CONTENT_TYPE", "text/plain"), "HTTP_CONTENT_TYPE is present"},
		{"HTTP_CONTENT_LENGTH", edit("HTTP_CONTENT_LENGTH", "1"), "HTTP_CONTENT_LENGTH is present"},
		{"HTTP_PROXY", edit("HTTP_PROXY", "http://evil"), "HTTP_PROXY is present"},
		{"HTTP_ lower case", edit("HTTP_X_auth", "x"), "HTTP_X_auth is not upper case"},
		{"HTTP_ dash", edit("HTTP_X-AUTH", "x"), "HTTP_X-AUTH is not upper case"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := environ.Check(tt.vars)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want an error containing %q", tt.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "environ: ") || !strings.Contains(msg, tt.want) {
				t.Fatalf("Check = %q, want \"environ: ...%s...\"", msg, tt.want)
			}
		})
	}
}
