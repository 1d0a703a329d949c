package host

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// accessLog writes one line per request in the common log format plus the
// duration in seconds. Lines are buffered and flushed a few times a second,
// so logging does not cost a write system call per request.
type accessLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const accessLogFlushEvery = 200 * time.Millisecond

// statusClientClosed is logged for a client that left before any response
// was sent (nginx's 499).
const statusClientClosed = 499

func newAccessLog(w io.Writer) *accessLog {
	a := &accessLog{w: bufio.NewWriterSize(w, 32<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go a.flushLoop()
	return a
}

func (a *accessLog) flushLoop() {
	defer close(a.done)
	t := time.NewTicker(accessLogFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.mu.Lock()
			_ = a.w.Flush()
			a.mu.Unlock()
		case <-a.stop:
			return
		}
	}
}

// log appends the line for one request:
//
//	127.0.0.1 - - [21/Nov/2026:09:25:17 +0000] "GET /hello HTTP/1.1" 200 13 0.000213
func (a *accessLog) log(r *Request, resp *response, start time.Time) {
	took := time.Since(start)
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	status := resp.status
	switch {
	case resp.aborted && status == 0:
		status = statusClientClosed
	case status == 0:
		status = http.StatusOK // nothing was written: net/http sends 200
	}
	var buf [256]byte
	b := append(buf[:0], host...)
	b = append(b, " - - ["...)
	b = start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = appendPrintable(b, r.Method)
	b = append(b, ' ')
	b = appendPrintable(b, r.Target)
	b = append(b, ' ')
	b = append(b, r.Proto...)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, resp.written, 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, took.Seconds(), 'f', 6, 64)
	b = append(b, '\n')
	a.mu.Lock()
	_, _ = a.w.Write(b)
	a.mu.Unlock()
}

// appendPrintable copies s, escaping bytes that could forge log lines.
func appendPrintable(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == '"' || c == '\\' || c >= 0x7f {
			b = append(b, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// close stops the flusher and writes what is buffered.
func (a *accessLog) close() error {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Flush()
}
