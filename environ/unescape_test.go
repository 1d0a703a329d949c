package environ_test

import (
	"errors"
	"testing"

	"github.com/lsgi/lsgi/environ"
)

func TestUnescape(t *testing.T) {
	tests := []struct {
		desc, in, want string
		bad            string // the EscapeError, when in is malformed
	}{
		{desc: "empty", in: "", want: ""},
		{desc: "no escapes", in: "/a/b", want: "/a/b"},
		{desc: "space", in: "/a%20b", want: "/a b"},
		{desc: "plus is not a space", in: "/a+b", want: "/a+b"},
		{desc: "encoded slash", in: "/a%2Fb", want: "/a/b"},
		{desc: "lower-case hex", in: "/a%2fb", want: "/a/b"},
		{desc: "UTF-8 stays bytes", in: "/%C3%A9", want: "/\xc3\xa9"},
		{desc: "invalid UTF-8 stays bytes", in: "/%80%ff", want: "/\x80\xff"},
		{desc: "raw high byte kept", in: "/\x80%80", want: "/\x80\x80"},
		{desc: "NUL", in: "%00", want: "\x00"},
		{desc: "percent sign", in: "%25", want: "%"},
		{desc: "escaped escape decoded once", in: "%2541", want: "%41"},
		{desc: "no normalisation", in: "/a/%2E%2E/b//c", want: "/a/../b//c"},
		{desc: "only escapes", in: "%41%42%43", want: "ABC"},
		{desc: "lone percent", in: "%", bad: "%"},
		{desc: "one digit at end", in: "/a%4", bad: "%4"},
		{desc: "non-hex first", in: "/%zz", bad: "%zz"},
		{desc: "non-hex second", in: "/%4g/x", bad: "%4g"},
		{desc: "many percents", in: "%%%", bad: "%%%"},
		{desc: "good then bad", in: "%41%", bad: "%"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := environ.Unescape(tt.in)
			if tt.bad != "" {
				var ee environ.EscapeError
				if !errors.As(err, &ee) || string(ee) != tt.bad {
					t.Fatalf("Unescape(%q) = %q, %v; want EscapeError %q", tt.in, got, err, tt.bad)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Unescape(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestUnescapeNoAlloc(t *testing.T) {
	s := "/a/plain/path"
	allocs := testing.AllocsPerRun(100, func() {
		if got, _ := environ.Unescape(s); got != s {
			t.Fatal("changed")
		}
	})
	if allocs != 0 {
		t.Errorf("Unescape without '%%' allocates %v times", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() { environ.Unescape("/a%20b") })
	if allocs != 1 {
		t.Errorf("Unescape with one escape allocates %v times, want 1", allocs)
	}
}

func TestEscapeErrorMessage(t *testing.T) {
	_, err := environ.Unescape("/%zz")
	if got, want := err.Error(), `environ: malformed percent-escape "%zz"`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
