package host

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// accessLog writes one line per request: by default in the common log
// format plus the duration in seconds, or in a gunicorn access_log_format
// (see Config.AccessLogFormat). Lines are buffered and flushed a few times
// a second, so logging does not cost a write system call per request.
type accessLog struct {
	mu     sync.Mutex
	w      *bufio.Writer
	format accessFormat // nil: the default line
	stop   chan struct{}
	done   chan struct{}
}

const accessLogFlushEvery = 200 * time.Millisecond

// statusClientClosed is logged for a client that left before any response
// was sent (nginx's 499).
const statusClientClosed = 499

func newAccessLog(w io.Writer, format accessFormat) *accessLog {
	a := &accessLog{w: bufio.NewWriterSize(w, 32<<10), format: format, stop: make(chan struct{}), done: make(chan struct{})}
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

// log appends the line for one request that got status and took took.
// The default line is
//
//	127.0.0.1 - - [21/Nov/2026:09:25:17 +0000] "GET /hello HTTP/1.1" 200 13 0.000213
func (a *accessLog) log(x *exchange, r *Request, status int, start time.Time, took time.Duration) {
	var buf [256]byte
	var b []byte
	if a.format != nil {
		b = a.format.append(buf[:0], x, r, status, start, took)
	} else {
		b = appendDefaultLine(buf[:0], r, status, x.resp.written, start, took)
	}
	b = append(b, '\n')
	a.mu.Lock()
	_, _ = a.w.Write(b)
	a.mu.Unlock()
}

func appendDefaultLine(b []byte, r *Request, status int, written int64, start time.Time, took time.Duration) []byte {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	b = append(b, host...)
	b = append(b, " - - ["...)
	b = start.AppendFormat(b, clfTime)
	b = append(b, "] \""...)
	b = appendPrintable(b, r.Method)
	b = append(b, ' ')
	b = appendPrintable(b, r.Target)
	b = append(b, ' ')
	b = append(b, r.Proto...)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, written, 10)
	b = append(b, ' ')
	return strconv.AppendFloat(b, took.Seconds(), 'f', 6, 64)
}

// clfTime is the time layout of the common log format.
const clfTime = "02/Jan/2006:15:04:05 -0700"

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
