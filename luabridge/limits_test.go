package luabridge

import (
	"strings"
	"testing"
)

func TestLimitsSet(t *testing.T) {
	tests := []struct {
		desc    string
		setting string
		check   func(Limits) bool
		wantErr string
	}{
		{"plain bytes", "string-bytes=1000", func(l Limits) bool { return l.MaxStringBytes == 1000 }, ""},
		{"MiB suffix", "string-bytes=128MiB", func(l Limits) bool { return l.MaxStringBytes == 128<<20 }, ""},
		{"KiB suffix with a space", "string-bytes=4 KiB", func(l Limits) bool { return l.MaxStringBytes == 4<<10 }, ""},
		{"nodes with underscores", "data-nodes=1_000", func(l Limits) bool { return l.MaxDataNodes == 1000 }, ""},
		{"depth", "data-depth=50", func(l Limits) bool { return l.MaxDataDepth == 50 }, ""},
		{"pattern steps", "pattern-steps=5000", func(l Limits) bool { return l.MaxPatternSteps == 5000 }, ""},
		{"no equals sign", "string-bytes", nil, "want NAME=VALUE"},
		{"unknown name", "bogus=1", nil, "unknown limit"},
		{"zero", "data-depth=0", nil, "positive whole number"},
		{"suffix on a count", "data-nodes=1MiB", nil, "positive whole number"},
		{"too large", "string-bytes=9999999999GiB", nil, "too large"},
	}
	for _, tt := range tests {
		var l Limits
		err := l.Set(tt.setting)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Set(%q) error = %v, want %q", tt.desc, tt.setting, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !tt.check(l) {
			t.Errorf("%s: Set(%q) = %+v, %v", tt.desc, tt.setting, l, err)
		}
	}
}

func TestLimitsDefaultsAndMessages(t *testing.T) {
	l := Limits{MaxDataDepth: 7}.WithDefaults()
	if l.MaxStringBytes != DefaultMaxStringBytes || l.MaxDataNodes != DefaultMaxDataNodes || l.MaxDataDepth != 7 {
		t.Errorf("WithDefaults = %+v", l)
	}
	if s := (&l).String(); !strings.Contains(s, "data-depth=7") {
		t.Errorf("String() = %q", s)
	}
	msg := LimitError("string-bytes", 64<<20, "a result")
	for _, want := range []string{"a result exceeds the string-bytes limit of 64 MiB", "--limit string-bytes=N", "Limits.MaxStringBytes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("LimitError = %q, want it to contain %q", msg, want)
		}
	}
}
