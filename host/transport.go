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
