package environ

import (
	"net/textproto"
	"testing"
)

func TestHeaderTable(t *testing.T) {
	seen := map[string]bool{}
	check := func(name string) {
		t.Helper()
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("%q is not canonical (%q): canonical keys are what net/http stores", name, c)
		}
		if ok, canonical := scanName(name); !ok || !canonical {
			t.Errorf("scanName(%q) = %v, %v", name, ok, canonical)
		}
		if seen[name] {
			t.Errorf("%q listed twice", name)
		}
		seen[name] = true
	}
	for _, name := range commonHeaders {
		check(name)
		if got, ok := lookupRule(name); !ok || got.key != httpKey(name) || got.kind != kindCopy {
			t.Errorf("lookupRule(%q) = %v, %v", name, got, ok)
		}
	}
	for _, s := range specialHeaders {
		check(s.name)
		if got, ok := lookupRule(s.name); !ok || got.key != s.rule.key || got.kind != s.rule.kind {
			t.Errorf("lookupRule(%q) = %v, %v; want %v", s.name, got, ok, s.rule)
		}
		if got := rulesByKey[httpKey(s.name)]; got.key != s.rule.key || got.kind != s.rule.kind {
			t.Errorf("rulesByKey[%q] = %v, want %v", httpKey(s.name), got, s.rule)
		}
	}
	ids := map[uint8]bool{}
	for _, rule := range rulesByKey {
		if ids[rule.id] {
			t.Errorf("two rules numbered %d", rule.id)
		}
		ids[rule.id] = true
	}
	if n := len(seen); n < 40 {
		t.Errorf("only %d precomputed names", n)
	}

	// Probe sequences stay short, and a quarter of the table stays empty so
	// that a miss ends quickly.
	used := 0
	for i := range ruleTable {
		if ruleTable[i].name == "" {
			continue
		}
		used++
		probes := (uint32(i) - ruleSlot(ruleTable[i].name)) % uint32(len(ruleTable))
		if probes > 3 {
			t.Errorf("%q is %d slots from its home", ruleTable[i].name, probes)
		}
	}
	if used != len(seen) || used > len(ruleTable)*3/4 {
		t.Errorf("ruleTable holds %d names of %d, in %d slots", used, len(seen), len(ruleTable))
	}
}

func TestLookupRuleMisses(t *testing.T) {
	for _, name := range []string{"", "a", "accept", "ACCEPT", "Accept ", "X-Custom", "Content-Typ", "Cookies", "X"} {
		if rule, ok := lookupRule(name); ok {
			t.Errorf("lookupRule(%q) = %v, want a miss", name, rule)
		}
	}
}

func TestHTTPKey(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Accept", "HTTP_ACCEPT"},
		{"X-Test-Header", "HTTP_X_TEST_HEADER"},
		{"x-lower", "HTTP_X_LOWER"},
		{"Sec-Ch-Ua-Mobile", "HTTP_SEC_CH_UA_MOBILE"},
		{"X.Dotted~1", "HTTP_X.DOTTED~1"},
	}
	for _, tt := range tests {
		if got := httpKey(tt.name); got != tt.want {
			t.Errorf("httpKey(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestScanName(t *testing.T) {
	tests := []struct {
		name          string
		ok, canonical bool
	}{
		{"Accept", true, true},
		{"X-Foo-Bar", true, true},
		{"X-1a", true, true},
		{"accept", true, false},
		{"ACCEPT", true, false},
		{"X-foo", true, false},
		{"X_Foo", false, false},
		{"X Foo", false, false},
		{"X:", false, false},
		{"Ä", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		ok, canonical := scanName(tt.name)
		if ok != tt.ok || canonical != tt.canonical {
			t.Errorf("scanName(%q) = %v, %v; want %v, %v", tt.name, ok, canonical, tt.ok, tt.canonical)
		}
		if tt.ok && tt.canonical != (textproto.CanonicalMIMEHeaderKey(tt.name) == tt.name) {
			t.Errorf("scanName(%q) canonical = %v, textproto disagrees", tt.name, canonical)
		}
	}
}
