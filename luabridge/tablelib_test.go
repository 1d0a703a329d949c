package luabridge

import (
	"context"
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestConcatManyPieces joins more pieces than gopher-lua's stack holds in
// a state opened as the bridge opens them (its table.concat raised
// "registry overflow" past about 128,000).
func TestConcatManyPieces(t *testing.T) {
	_, prog := newTestPoolOpts(t, `
		local t = {} for i = 1, 200000 do t[i] = i % 10 end
		RESULT = #table.concat(t, ",") .. " " .. #table.concat(t)
		return function() end`, ProgramOptions{})
	st, err := prog.newState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if got, want := lua.LVAsString(st.lstate.GetGlobal("RESULT")), "399999 200000"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSortInvalidOrder(t *testing.T) {
	L := newStdlibState(t, LibOptions{})
	got := evalString(t, L, `local t = {} for i = 1, 100 do t[i] = i end
		local ok, err = pcall(table.sort, t, function(a, b) return true end) return tostring(ok) .. " " .. err`)
	if !strings.Contains(got, "invalid order function for sorting") {
		t.Errorf("got %q", got)
	}
}

// BenchmarkTableConcat joins n pieces in a fresh state each time: the
// first concat of a state is where gopher-lua's was quadratic. The time
// per piece should stay flat as n grows.
func BenchmarkTableConcat(b *testing.B) {
	for _, n := range []int{1000, 25000, 300000} {
		b.Run(fmt.Sprintf("pieces=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, RegistrySize: 1024 * 4, RegistryMaxSize: 1024 * 256})
				if err := OpenLibs(L, false); err != nil {
					b.Fatal(err)
				}
				if err := L.DoString(fmt.Sprintf(`T = {} for i = 1, %d do T[i] = "<td>" .. i .. "</td>" end`, n)); err != nil {
					b.Fatal(err)
				}
				concat := L.GetField(L.GetGlobal("table"), "concat")
				t := L.GetGlobal("T")
				b.StartTimer()
				if err := L.CallByParam(lua.P{Fn: concat, NRet: 1, Protect: true}, t); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				L.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/piece")
		})
	}
}
