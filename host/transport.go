package host

import (
	"context"
	"net/http"

	"github.com/lsgi/lsgi/environ"
)

// transport holds what a gateway other than plain HTTP knows about a
// request: the per-transport differences of wsgiref's handlers, as data.
type transport struct {
	gateway *environ.Gateway // replaces the handler's gateway when set
	extra   environ.Vars     // further CGI variables the front server passed
	runOnce bool             // the process serves one request (CGI)
}

type transportKey struct{}

func withTransport(r *http.Request, t *transport) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), transportKey{}, t))
}

func transportOf(r *http.Request) *transport {
	t, _ := r.Context().Value(transportKey{}).(*transport)
	return t
}

// ServeAborting serves r with h and reports whether h aborted the response
// with http.ErrAbortHandler, as the host does for an app error after the
// headers went out. A server answers that by cutting the connection; in
// process (a recorder, a test, lsgi call) there is none to cut, so the
// caller learns of it from the result. Other panics go on up.
func ServeAborting(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}
