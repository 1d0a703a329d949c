package main

// This file holds the flags of lsgi serve that fence what clients and
// plugins can take from the process (docs/SECURITY.md): the connection
// cap, the memory fence and the isolation of single-file plugins.

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// guardFlags are the fencing flags of lsgi serve.
type guardFlags struct {
	maxConns  int
	maxMemory memoryLimit
	isolate   bool
}

func addGuardFlags(fs *flag.FlagSet) *guardFlags {
	g := &guardFlags{}
	fs.IntVar(&g.maxConns, "max-connections", 0, "most connections open at once; past it new ones get 503 and are closed (default: the open-file limit less an eighth, at least 64; -1: no cap)")
	fs.Var(&g.maxMemory, "max-memory", "memory fence: past this much Go heap, the requests running Lua are stopped (503) and the Lua states holding memory discarded; `size` in bytes, or with k, m or g, or off (default: a third of the memory the process may use)")
	fs.BoolVar(&g.isolate, "isolate", false, "keep single-file plugins (NAME.lua) from requiring or loading the plugins folder's files, other apps' modules among them")
	return g
}

// limit caps the connections of ln (see transport.LimitListener): HTTP
// clients past the cap get a canned 503, FastCGI ones a closed connection.
func (g *guardFlags) limit(ln net.Listener, fastCGI bool, logger *slog.Logger) net.Listener {
	n := g.maxConns
	if n == 0 {
		n = transport.DefaultMaxConnections()
	}
	if n < 0 {
		return ln
	}
	refusal := transport.HTTPRefusal
	if fastCGI {
		refusal = nil
	}
	logger.Info("connection limit", "max_connections", n)
	return transport.LimitListener(ln, n, refusal, logger)
}

// memory returns Config.MaxMemory for the flag, and logs the fence.
func (g *guardFlags) memory(logger *slog.Logger) int64 {
	switch {
	case g.maxMemory.off:
		logger.Warn("memory fence: off (--max-memory off): a plugin that exhausts memory ends the process")
		return -1
	case g.maxMemory.bytes > 0:
		logger.Info("memory fence", "max_memory", g.maxMemory.bytes)
		return g.maxMemory.bytes
	}
	limit, avail := host.DefaultMaxMemory()
	logger.Info("memory fence: a third of the memory available", "max_memory", limit, "available", avail.Bytes, "limited_by", avail.Source)
	return limit
}

// memoryLimit is the value of --max-memory: a size, or off.
type memoryLimit struct {
	bytes int64
	off   bool
}

func (m *memoryLimit) String() string {
	if m.off {
		return "off"
	}
	if m.bytes == 0 {
		return ""
	}
	return fmt.Sprint(m.bytes)
}

func (m *memoryLimit) Set(s string) error {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		*m = memoryLimit{off: true}
		return nil
	}
	var b byteSize
	if err := b.Set(s); err != nil {
		return err
	}
	if b < 16<<20 {
		return fmt.Errorf("want at least 16m, or off")
	}
	*m = memoryLimit{bytes: int64(b)}
	return nil
}
