package transport_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

func TestCatch(t *testing.T) {
	tests := []struct {
		desc      string
		handler   http.HandlerFunc
		wantErr   error // nil: no error
		wantPanic bool  // a *PanicError
	}{
		{"a response", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }, nil, false},
		{"an aborted response", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("part"))
			panic(http.ErrAbortHandler)
		}, host.ErrAborted, false},
		{"another panic", func(w http.ResponseWriter, r *http.Request) { panic("a bug") }, nil, true},
		{"a panic with an uncomparable value", func(w http.ResponseWriter, r *http.Request) { panic([]string{"x"}) }, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := transport.Catch(tt.handler, httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			var pe *transport.PanicError
			switch {
			case tt.wantPanic && (!errors.As(err, &pe) || len(pe.Stack) == 0):
				t.Errorf("Catch = %v, want a *PanicError with a stack", err)
			case !tt.wantPanic && !errors.Is(err, tt.wantErr) || !tt.wantPanic && tt.wantErr == nil && err != nil:
				t.Errorf("Catch = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
