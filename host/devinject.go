package host

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/lsgi/lsgi/luabridge"
)

// reloadInjector stands between an app and the host's response under
// Config.Dev, for loopback clients that ask for HTML (a browser loading a
// page; not curl, fetch or an API client): an HTML response (Content-Type
// text/html, no Content-Encoding) gets the browser-refresh script, before
// its last "</body" or, when it has none, at its end. A declared
// Content-Length grows by the script's length, so the response stays
// exactly framed; a HEAD response declares the same length as its GET.
// Other responses (JSON, compressed, 204, 304) pass through untouched.
//
// A response is streamed as it comes: only the last few bytes of a chunk
// that is not flushed wait for the next one, in case "</body" spans the
// two.
type reloadInjector struct {
	resp   *response
	script string
	fields []headerField

	active bool   // this response gets the script
	done   bool   // the script went out
	held   string // the end of the last chunk, which may start "</body"
}

// reloadInjector returns the writer an app's response goes through when
// the client may get the refresh script.
func (h *Handler) reloadInjector(resp *response, pl *plugin) *reloadInjector {
	return &reloadInjector{resp: resp, script: h.reload(pl.name).Script()}
}

// AddHeader implements luabridge.ResponseWriter.
func (j *reloadInjector) AddHeader(name, value string) {
	j.fields = append(j.fields, headerField{name, value})
}

// Start implements luabridge.ResponseWriter.
func (j *reloadInjector) Start(status int, reason string, contentLength int64) (bool, error) {
	j.active = status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified && j.isHTML()
	if j.active && contentLength >= 0 {
		contentLength += int64(len(j.script))
	}
	for _, f := range j.fields {
		if j.active && strings.EqualFold(f.name, "Content-Length") {
			f.value = strconv.FormatInt(contentLength, 10)
		}
		j.resp.AddHeader(f.name, f.value)
	}
	allowed, err := j.resp.Start(status, reason, contentLength)
	j.active = j.active && allowed
	return allowed, err
}

// isHTML reports whether the response is uncompressed HTML.
func (j *reloadInjector) isHTML() bool {
	html := false
	for _, f := range j.fields {
		switch {
		case strings.EqualFold(f.name, "Content-Type"):
			media, _, _ := strings.Cut(f.value, ";")
			html = strings.EqualFold(strings.TrimSpace(media), "text/html")
		case strings.EqualFold(f.name, "Content-Encoding"):
			if !strings.EqualFold(strings.TrimSpace(f.value), "identity") {
				return false
			}
		}
	}
	return html
}

// bodyEnd is what the script goes before.
const bodyEnd = "</body"

// Write implements luabridge.ResponseWriter.
func (j *reloadInjector) Write(chunk string, flush bool) error {
	if !j.active || j.done {
		return j.resp.Write(chunk, flush)
	}
	data := j.held + chunk
	j.held = ""
	if i := lastIndexFold(data, bodyEnd); i >= 0 {
		j.done = true
		return j.resp.Write(data[:i]+j.script+data[i:], flush)
	}
	if flush {
		return j.resp.Write(data, true)
	}
	keep := min(len(data), len(bodyEnd)-1)
	j.held = data[len(data)-keep:]
	if keep == len(data) {
		return nil
	}
	return j.resp.Write(data[:len(data)-keep], false)
}

// finish sends the script at the end of a response that had no "</body".
func (j *reloadInjector) finish() error {
	if !j.active || j.done {
		return nil
	}
	j.done = true
	err := j.resp.Write(j.held+j.script, false)
	if err != nil && !errors.Is(err, luabridge.ErrBodyComplete) {
		return &luabridge.ClientError{Err: err}
	}
	return nil
}

// lastIndexFold is strings.LastIndex ignoring ASCII case; sub must be
// lower case.
func lastIndexFold(s, sub string) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if s[i] == sub[0] && strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
