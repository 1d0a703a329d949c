// This file gives each request its id: the X-Request-Id of a trusted
// proxy, else one made here, cheaply (a random prefix drawn once per
// process and a counter). Apps see it as lsgi.request_id, the client as
// the X-Request-Id response field (Config.SendRequestID); the host's logs
// of the request carry it.

package host

import (
	"crypto/rand"
	"strconv"
	"sync/atomic"

	"github.com/lsgi/lsgi/environ"
)

// RequestIDHeader is the request field whose value a trusted proxy (see
// Config.ForwardedAllowIPs) passes as the request's id, and the response
// field that carries the id back.
const RequestIDHeader = "X-Request-Id"

// requestIDVar is the environ variable of the id (docs/SPEC.md 9.1).
const requestIDVar = "lsgi.request_id"

// maxRequestID bounds an id taken from a proxy: longer ones are replaced.
const maxRequestID = 128

// idPrefix is drawn once per process, so that the ids of two processes
// (workers, or a restart) never meet.
var idPrefix = func() string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford's base 32
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return string(b[:])
}()

var idCounter atomic.Uint64

// newRequestID returns a fresh id: "PREFIX-N", N counting in base 36.
func newRequestID() string {
	var buf [40]byte
	b := append(buf[:0], idPrefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, idCounter.Add(1), 36)
	return string(b)
}

// requestID returns the id of a request whose environ is vars: the
// X-Request-Id a trusted proxy sent, if it is a sane one, else a new one.
func (h *Handler) requestID(vars environ.Vars, remoteAddr string) string {
	if id, ok := vars.Get("HTTP_X_REQUEST_ID"); ok && validRequestID(id) && h.proxies.Trusts(remoteAddr) {
		return id
	}
	return newRequestID()
}

// validRequestID accepts 1 to maxRequestID visible ASCII characters but
// the quote and the backslash, so that an id taken from a proxy goes into
// headers and log lines as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
