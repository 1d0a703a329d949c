package transport

import (
	"log/slog"
	"net/http"
	"time"
)

// NewHTTPServer returns an [http.Server] for h with every timeout finite,
// so that slow or idle clients cannot hold connections forever: 10s to read
// a request's headers, 75s of keep-alive idleness, and 64 KiB of headers.
// Request bodies and responses are bounded by the handler's own deadline
// (a *host.Handler sets the connection's read deadline as each request
// arrives). Server errors go to logger at the warning level.
//
// Serve it on a listener wrapped by [HTTPListener] (and, to cap the
// connections, [LimitListener] beneath): a request with both
// Content-Length and Transfer-Encoding then closes its connection after
// its response, as RFC 9112 section 6.1 requires. Served over TLS
// (ServeTLS), where no listener sees the plaintext, it closes the
// connection after every chunked HTTP/1 request instead.
func NewHTTPServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           closeOnConflict{h},
		ConnContext:       connContext,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       75 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
