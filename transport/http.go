package transport

import (
	"log/slog"
	"net/http"
	"time"
)

// NewHTTPServer returns an [http.Server] for h with every timeout finite,
// so that slow or idle clients cannot hold connections forever: 10s to read
// a request's headers, 75s of keep-alive idleness, and 64 KiB of headers.
// Request bodies and responses are bounded by the handler's own deadline.
// Server errors go to logger at the warning level.
func NewHTTPServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       75 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
