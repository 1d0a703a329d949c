package transport

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/lsgi/lsgi/host"
)

// PanicError is a panic of a handler other than http.ErrAbortHandler, as
// [Catch] caught it.
type PanicError struct {
	Value any    // what the handler panicked with
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("transport: handler panic: %v", e.Value) }

// Catch serves r with h where no server stands between them (CGI, FastCGI,
// a test, lsgi call) and turns a panic into an error, as http.Server turns
// it into a cut connection: [host.ErrAborted] for http.ErrAbortHandler,
// which the host raises when a response must not look complete (an app
// failed after its headers went out), and a *[PanicError] for any other
// panic. There is no connection to cut here, so the caller learns of it
// from the result: the response written so far simply ends.
func Catch(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		switch v := recover(); v {
		case nil:
		case http.ErrAbortHandler:
			err = host.ErrAborted
		default:
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}
