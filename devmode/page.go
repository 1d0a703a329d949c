package devmode

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Kind says what kind of error a page shows.
type Kind string

// The kinds of errors the development pages know.
const (
	LoadError     Kind = "load"     // the app's files did not compile or its main chunk failed
	RuntimeError  Kind = "runtime"  // a Lua error while serving a request
	ContractError Kind = "contract" // the app broke the LSGI contract (lsgi.validator, the host's own checks)
	TimeoutError  Kind = "timeout"  // the request ran past its deadline
)

// Error is one error as the development pages show it.
type Error struct {
	Kind   Kind
	App    string // the app's name
	Status int    // the response's status: 500, or 504 for a timeout

	Method, Path string // the request, when there is one

	Message string // the error's text, as Lua or the host gave it
	File    string // where the error points (from the message), "" when nowhere
	Line    int

	// Frames is the Lua traceback, parsed; nil when there is none (a
	// syntax error, a contract broken outside Lua).
	Frames []Frame

	// Source returns a file of the app named as errors name it, or nil;
	// it gives the excerpts of the app's frames. Nil means no excerpts.
	Source func(file string) []byte

	// Reload, when its URL is set, makes the page reload itself when the
	// app changes: a fix shows the app again.
	Reload Reload
}

// excerptContext is how many lines an excerpt shows on each side.
const excerptContext = 4

// maxSites bounds the excerpts of one page: a deep recursion must not
// make it huge.
const maxSites = 8

// site is a place of the app's code a page shows with its source.
type site struct {
	File   string
	Line   int
	Where  string
	Source []SourceLine
}

// sites are the places a page shows: where the error points, then each
// app frame of the traceback not already shown.
func (e *Error) sites() []site {
	var out []site
	seen := map[string]bool{}
	add := func(file string, line int, where string) {
		key := file + "\x00" + strconv.Itoa(line)
		if file == "" || seen[key] || len(out) >= maxSites {
			return
		}
		seen[key] = true
		s := site{File: file, Line: line, Where: where}
		if e.Source != nil {
			s.Source = Excerpt(e.Source(file), line, excerptContext)
		}
		out = append(out, s)
	}
	if e.File != "" {
		where := ""
		for _, f := range e.Frames {
			if f.File == e.File && f.Line == e.Line {
				where = f.Where
				break
			}
		}
		add(e.File, e.Line, where)
	}
	for _, f := range e.Frames {
		if f.App && f.Line > 0 {
			add(f.File, f.Line, f.Where)
		}
	}
	return out
}

// heading is the page's title line.
func (e *Error) heading() string {
	app := "“" + e.App + "”"
	switch e.Kind {
	case LoadError:
		return "The app " + app + " failed to load"
	case ContractError:
		return "The app " + app + " broke the LSGI contract"
	case TimeoutError:
		return "The app " + app + " ran past its deadline"
	}
	return "The app " + app + " raised an error"
}

// hint says what to do next.
func (e *Error) hint() string {
	var b strings.Builder
	switch e.Kind {
	case LoadError:
		b.WriteString("Fix the file and save it: the previous version, if any, serves other clients meanwhile.")
	case ContractError:
		b.WriteString("lsgi.validator checks the contract (docs/SPEC.md) on every request under --dev.")
	case TimeoutError:
		b.WriteString("The request ran past --timeout. A streaming app can move its deadline with lsgi.extend_deadline.")
	default:
		b.WriteString("Wrap the app in lsgi.middleware.errors to answer errors your own way.")
	}
	if e.Reload.URL != "" {
		b.WriteString(" This page reloads by itself when you save a file of the app.")
	} else {
		b.WriteString(" Reload the page once it is fixed.")
	}
	return b.String()
}

// HTML renders the error as a page.
func (e *Error) HTML() string {
	frames := e.Frames
	hidden := len(frames) - len(AppFrames(frames))
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return render("error", map[string]any{
		"Title":   e.heading(),
		"Heading": e.heading(),
		"Kind":    string(e.Kind),
		"Status":  status,
		"Reason":  http.StatusText(status),
		"Method":  e.Method,
		"Path":    e.Path,
		"Message": e.Message,
		"Sites":   e.sites(),
		"Frames":  frames,
		"Hidden":  hidden,
		"Hint":    e.hint(),
		"Script":  e.Reload.script(),
	})
}

// errorJSON is the JSON error body.
type errorJSON struct {
	Error     string  `json:"error"`
	Kind      Kind    `json:"kind"`
	App       string  `json:"app"`
	Status    int     `json:"status"`
	File      string  `json:"file,omitempty"`
	Line      int     `json:"line,omitempty"`
	Traceback []Frame `json:"traceback"`
}

// JSON renders the error for API clients: {"error", "kind", "app",
// "status", "file", "line", "traceback": [{"file", "line", "where",
// "app"}]}.
func (e *Error) JSON() string {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	frames := e.Frames
	if frames == nil {
		frames = []Frame{}
	}
	data, err := json.Marshal(errorJSON{Error: e.Message, Kind: e.Kind, App: e.App, Status: status,
		File: e.File, Line: e.Line, Traceback: frames})
	if err != nil { // not with these types
		return `{"error":"devmode: cannot encode the error"}`
	}
	return string(data) + "\n"
}

// Render returns the body and the Content-Type of the error page for a
// client whose Accept header is accept: JSON when it prefers JSON to HTML,
// else HTML.
func (e *Error) Render(accept string) (body, contentType string) {
	if WantsJSON(accept) {
		return e.JSON(), "application/json; charset=utf-8"
	}
	return e.HTML(), "text/html; charset=utf-8"
}
