package main

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/lsgi/lsgi/devmode"
	"github.com/lsgi/lsgi/host"
)

// devLogger returns the logger of lsgi serve --dev: the same lines, but a
// Lua traceback follows its log line over several lines, the app's frames
// in full and the toolkit's counted, instead of one escaped attribute.
func devLogger(logger *slog.Logger, stderr io.Writer) *slog.Logger {
	return slog.New(devmode.NewLogHandler(logger.Handler(), stderr))
}

// maxURLLines is how many "app at" lines logURLs writes: a host of
// thousands of plugins gets a count rather than a line for each.
const maxURLLines = 20

// logURLs logs the address of each mounted app once the server listens on
// addr, so that the first thing to open is one click away; every app that
// failed to load, and the first maxURLLines of the others.
func logURLs(logger *slog.Logger, addr net.Addr, root string, dev bool, h *host.Handler) {
	base, ok := baseURL(addr)
	if !ok {
		return
	}
	base += strings.TrimSuffix(root, "/")
	apps := h.Apps()
	hasIndex, logged, unlisted := false, 0, 0
	for _, app := range apps {
		url := base + app.Mount
		if app.Mount == "/" {
			hasIndex = true
		}
		switch {
		case app.Err != nil:
			logger.Warn("app failed to load: "+url, "app", app.Name, "file", app.File)
		case logged < maxURLLines:
			logger.Info("app at "+url, "app", app.Name, "file", app.File)
			logged++
		default:
			unlisted++
		}
	}
	if unlisted > 0 {
		logger.Info(strconv.Itoa(unlisted)+" more apps at "+base+"/NAME: --dev lists them all at /, as does the status page of --admin-bind", "apps", len(apps))
	}
	switch {
	case len(apps) == 0:
		logger.Warn("no app is mounted: add NAME.lua to the plugins folder, or run lsgi new NAME")
	case dev && !hasIndex:
		logger.Info("the apps are listed at " + base + "/")
	}
}

// baseURL is http://HOST:PORT for a TCP listener; a listener on every
// address is reached through the loopback one.
func baseURL(addr net.Addr) (string, bool) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "", false
	}
	ip := tcp.IP
	switch {
	case ip == nil, ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port)), true
}
