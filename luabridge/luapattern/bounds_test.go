package luapattern_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/luabridge/luapattern"
)

func TestBudget(t *testing.T) {
	tests := []struct {
		desc    string
		s, p    string
		budget  int
		wantErr error // nil: the call finishes within the budget
	}{
		{"backtracking find stops at the default budget", strings.Repeat("a", 350), ".-.-.-b", 0, luapattern.ErrBudget},
		{"backtracking find stops at a small budget", strings.Repeat("a", 60), ".-.-.-b", 1000, luapattern.ErrBudget},
		{"nested stars stop", strings.Repeat("a", 40), "a*a*a*a*a*a*a*c", 100_000, luapattern.ErrBudget},
		{"back-references count their length", strings.Repeat("ab", 2000), "(.*)%1x", 100_000, luapattern.ErrBudget},
		{"balance scans count", strings.Repeat("(", 3000), "%b()", 100_000, luapattern.ErrBudget},
		{"a linear scan fits", strings.Repeat("a ", 50_000) + "1", "%d+", 1_000_000, nil},
		{"a literal search fits", strings.Repeat("x", 1_000_000) + "needle", "needle%d*", 200_000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var m luapattern.Matcher
			m.Reset(context.Background(), tt.budget)
			_, _, err := m.Find(tt.s, tt.p, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			budget := tt.budget
			if budget <= 0 {
				budget = luapattern.DefaultBudget
			}
			if m.Steps() > budget {
				t.Errorf("took %d steps, budget %d", m.Steps(), budget)
			}
			if tt.wantErr != nil && m.Steps() != budget {
				t.Errorf("stopped after %d steps, want all %d", m.Steps(), budget)
			}
		})
	}
}

// gsub shares one budget among all its matches.
func TestGsubSharesBudget(t *testing.T) {
	var m luapattern.Matcher
	m.Reset(context.Background(), 5000)
	_, _, err := m.Gsub(strings.Repeat("a ", 10_000), "%a", 1<<30, 0, func(dst []byte, start, end int) ([]byte, error) {
		return append(dst, 'b'), nil
	})
	if !errors.Is(err, luapattern.ErrBudget) {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
}

func TestDepth(t *testing.T) {
	tests := []struct {
		desc    string
		p       string
		wantErr bool
	}{
		{"optional items within the bound", strings.Repeat("a?", luapattern.MaxDepth-2), false},
		{"optional items past the bound", strings.Repeat("a?", luapattern.MaxDepth+1), true},
		{"stars past the bound", strings.Repeat("a*", luapattern.MaxDepth+1), true},
		{"captures past the bound", strings.Repeat("(a", 20) + strings.Repeat("a?", luapattern.MaxDepth), true},
		{"plain items do not nest", strings.Repeat("a", 10*luapattern.MaxDepth), false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var m luapattern.Matcher
			_, _, err := m.Find(strings.Repeat("a", 10*luapattern.MaxDepth), tt.p, 0)
			var perr *luapattern.Error
			if tt.wantErr != (errors.As(err, &perr) && perr.Msg == "pattern too complex") {
				t.Fatalf("err = %v, want pattern too complex: %v", err, tt.wantErr)
			}
			if !tt.wantErr && err != nil {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestContextStopsMatching(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var m luapattern.Matcher
	m.Reset(ctx, 0)
	_, _, err := m.Find(strings.Repeat("a", 350), ".-.-.-b", 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestResultLimit(t *testing.T) {
	tests := []struct {
		desc   string
		s, p   string
		tmpl   string
		maxLen int
		want   string // "" means ErrTooLong
	}{
		{"within the limit", "abc", "%w", "%0%0", 6, "aabbcc"},
		{"one byte over", "abc", "%w", "%0%0", 5, ""},
		{"a template that multiplies the match", strings.Repeat("x", 100), ".+", strings.Repeat("%0", 100), 5000, ""},
		{"copied text counts", strings.Repeat("y", 100) + "x", "x", "z", 50, ""},
		{"no limit", "abc", "%w", "%0%0", 0, "aabbcc"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var m luapattern.Matcher
			out, _, err := m.Gsub(tt.s, tt.p, len(tt.s)+1, tt.maxLen, func(dst []byte, start, end int) ([]byte, error) {
				return m.Expand(dst, tt.tmpl, start, end, tt.maxLen)
			})
			if tt.want == "" {
				if !errors.Is(err, luapattern.ErrTooLong) {
					t.Fatalf("err = %v, want ErrTooLong", err)
				}
				return
			}
			if err != nil || out != tt.want {
				t.Fatalf("got %q, %v, want %q", out, err, tt.want)
			}
		})
	}
}

func TestStartIndex(t *testing.T) {
	tests := []struct {
		desc       string
		init, n    int
		wantOffset int
	}{
		{"first byte", 1, 3, 0},
		{"default zero", 0, 3, 0},
		{"last byte", 3, 3, 2},
		{"just past the end", 4, 3, 3},
		{"far past the end", 100, 3, 3},
		{"from the end", -1, 3, 2},
		{"whole string from the end", -3, 3, 0},
		{"before the start", -10, 3, 0},
		{"empty subject", 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := luapattern.StartIndex(tt.init, tt.n); got != tt.wantOffset {
				t.Errorf("StartIndex(%d, %d) = %d, want %d", tt.init, tt.n, got, tt.wantOffset)
			}
		})
	}
}

func TestIsPlain(t *testing.T) {
	tests := []struct {
		desc string
		p    string
		want bool
	}{
		{"letters", "hello", true},
		{"close paren and brackets", "a)]", true},
		{"dot", "a.b", false},
		{"percent", "50%", false},
		{"caret", "^a", false},
		{"specials after a zero byte", "a\x00.", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := luapattern.IsPlain(tt.p); got != tt.want {
				t.Errorf("IsPlain(%q) = %v", tt.p, got)
			}
		})
	}
}
