package transport

// This file is the FastCGI side: a responder behind a front server (nginx
// fastcgi_pass, Apache mod_proxy_fcgi), on net/http/fcgi.

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/fcgi"

	"github.com/lsgi/lsgi/environ"
)

// ServeFastCGI serves h over FastCGI on l until l is closed, as
// net/http/fcgi's Serve does with any handler, and with the same argument
// order.
//
// net/http/fcgi rebuilds the request from REQUEST_URI and drops SCRIPT_NAME
// and PATH_INFO, so an LSGI host behind it takes its mount point from its
// Config.Root: with nginx "location /app/ { fastcgi_pass ...; }", set Root
// to "/app". The request's Gateway says the front server's SERVER_NAME and
// SERVER_PORT and the REMOTE_USER, AUTH_TYPE and REMOTE_IDENT it passed.
//
// net/http/fcgi does not recover handler panics: an aborted response (an
// app error after the headers) just ends early, since FastCGI has no way to
// mark it broken, and any other panic is logged to slog.Default() rather
// than taking the process down.
func ServeFastCGI(l net.Listener, h http.Handler) error {
	return fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveFastCGI(h, w, r)
	}))
}

func serveFastCGI(h http.Handler, w http.ResponseWriter, r *http.Request) {
	env := fcgi.ProcessEnv(r)
	if r.RequestURI == "" {
		// net/http/fcgi parses REQUEST_URI into r.URL but keeps no raw copy.
		r.RequestURI = r.URL.RequestURI()
	}
	if r.ContentLength > 0 {
		// Only a positive length: net/http/fcgi reads an absent and an
		// empty body both as 0.
		restoreContentLength(r)
	}
	gw := &environ.Gateway{
		ServerName: env["SERVER_NAME"],
		ServerPort: env["SERVER_PORT"],
		Vars:       passedVars(func(name string) string { return env[name] }),
	}
	var panicked *PanicError
	if err := Catch(h, w, environ.WithGateway(r, gw)); errors.As(err, &panicked) {
		slog.Default().Error("panic while serving", "path", r.URL.Path, "panic", panicked.Value, "stack", string(panicked.Stack))
	}
}
