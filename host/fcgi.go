package host

// This file is the FastCGI side of the host: a responder behind a front
// server (nginx fastcgi_pass, Apache mod_proxy_fcgi), on net/http/fcgi.

import (
	"net"
	"net/http"
	"net/http/fcgi"
	"strconv"

	"github.com/lsgi/lsgi/environ"
)

// passedVars are the CGI variables a front server may send that net/http
// does not map onto the request; they reach apps unchanged.
var passedVars = []string{"REMOTE_USER", "AUTH_TYPE", "REMOTE_IDENT"}

// ServeFastCGI serves h over FastCGI on ln until ln is closed.
//
// net/http/fcgi rebuilds the request from REQUEST_URI and drops SCRIPT_NAME
// and PATH_INFO, so the mount point comes from Config.Root: with nginx
// "location /app/ { fastcgi_pass ...; }", set Root to "/app". SERVER_NAME
// and SERVER_PORT are the front server's.
func ServeFastCGI(ln net.Listener, h *Handler) error {
	return fcgi.Serve(ln, &fastCGIAdapter{h: h})
}

type fastCGIAdapter struct{ h *Handler }

func (a *fastCGIAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env := fcgi.ProcessEnv(r)
	if r.RequestURI == "" {
		// net/http/fcgi parses REQUEST_URI into r.URL but keeps no raw copy.
		r.RequestURI = r.URL.RequestURI()
	}
	if r.ContentLength > 0 && r.Header.Get("Content-Length") == "" {
		// net/http/fcgi keeps CONTENT_LENGTH only in r.ContentLength, where
		// an absent and an empty body both read 0.
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	gw := a.h.gateway
	if v := env["SERVER_NAME"]; v != "" {
		gw.ServerName = v
	}
	if v := env["SERVER_PORT"]; v != "" {
		gw.ServerPort = v
	}
	t := &transport{gateway: &gw}
	for _, name := range passedVars {
		if v, ok := env[name]; ok && v != "" {
			t.extra = append(t.extra, environ.Var{Name: name, Value: v})
		}
	}
	// net/http/fcgi does not recover handler panics: an app error after the
	// headers (http.ErrAbortHandler) would end the whole process. The body
	// simply ends early; FastCGI has no way to mark it broken, so a body
	// with a known Content-Length is the only one a client can check.
	defer recoverAbort(a.h, r)
	a.h.ServeHTTP(w, withTransport(r, t))
}

// recoverAbort stops a response abort (or any panic) from taking down a
// transport that does not recover handler panics itself.
func recoverAbort(h *Handler, r *http.Request) {
	if v := recover(); v != nil && v != http.ErrAbortHandler {
		h.log.Error("panic while serving", "path", r.URL.Path, "panic", v)
	}
}
