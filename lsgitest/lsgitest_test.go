package lsgitest_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/lsgitest"
)

func TestGet(t *testing.T) {
	app := lsgitest.NewSource(t, `return function(environ, start_response)
		start_response("200 OK", {{"Content-Type", "text/plain"}})
		return {"hello " .. environ.PATH_INFO}
	end`)
	res := app.Get("/world")
	if res.Code != 200 || res.Body.String() != "hello /world" || res.Header().Get("Content-Type") != "text/plain" {
		t.Errorf("got %d %q %v", res.Code, res.Body.String(), res.Header())
	}
}

func TestPostBody(t *testing.T) {
	app := lsgitest.NewSource(t, `return function(environ, start_response)
		start_response("200 OK", {})
		return {environ["lsgi.input"]:read() .. "|" .. environ.CONTENT_LENGTH}
	end`)
	req := httptest.NewRequest("POST", "/", strings.NewReader("data"))
	req.Header.Set("Content-Length", "4")
	if res := app.Do(req); res.Body.String() != "data|4" {
		t.Errorf("body = %q", res.Body.String())
	}
}

func TestAbortedAndLogged(t *testing.T) {
	app := lsgitest.NewSource(t, `return function(environ, start_response)
		start_response("200 OK", {})
		local n = 0
		return function() n = n + 1 if n == 1 then return "part" end error("boom") end
	end`)
	res := app.Get("/")
	if !res.Aborted || !strings.Contains(app.Log(), "boom") {
		t.Errorf("aborted = %v, log = %s", res.Aborted, app.Log())
	}
}

func TestValidatorCatchesContractBreach(t *testing.T) {
	// A status that passes start_response's checks but a result that is a
	// plain string: the host answers 500 and the log says why.
	app := lsgitest.NewSource(t, `return function(environ, start_response)
		start_response("200 OK", {})
		return "not a table"
	end`)
	if res := app.Get("/"); res.Code != 500 {
		t.Errorf("status = %d, want 500", res.Code)
	}
	if !strings.Contains(app.Log(), "string") {
		t.Errorf("the log does not explain the error: %s", app.Log())
	}
}
