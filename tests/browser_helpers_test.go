package tests

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A headless Chromium for the tests that need a real browser: pages whose
// scripts run (the --dev refresh), an EventSource that reconnects, pages
// to look at, screenshots for the docs. It is driven over the DevTools
// protocol with chromedp.
//
//	b := startBrowser(t)
//	b.open(s.base + "/hello")
//	b.waitText("Hello")
//	b.screenshot("dev-error-page")  // docs/images/dev-error-page.png, with -update-screenshots

// updateScreenshots makes browser.screenshot write the docs' images:
// go test ./tests -run Browser -update-screenshots
var updateScreenshots = flag.Bool("update-screenshots", false, "write the screenshots of docs/images/ from the browser tests")

// browserTimeout bounds every wait on the browser: a page to load, a text
// to appear.
const browserTimeout = 20 * time.Second

// browser is one headless Chromium with one tab, started for a test and
// stopped when it ends.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab's
}

// chromiumPath finds Chromium (Debian's chromium, or Google Chrome), or
// skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Skip("Chromium is not installed; install it to run the browser tests (Debian: apt-get install -y chromium)")
	return ""
}

// browserLog keeps what chromedp and Chromium say, for failure messages.
type browserLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *browserLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *browserLog) logf(format string, args ...any) {
	fmt.Fprintf(l, format+"\n", args...)
}

func (l *browserLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBrowser starts a headless Chromium with a fresh profile in the
// test's temporary folder, a 1200x900 window, and nothing that reaches
// the network on its own. It is stopped, and its process waited for, when
// the test ends. The test is skipped when Chromium is not installed.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath(t)
	log := &browserLog{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.CombinedOutput(log),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(log.logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser's process to exit
	})
	// The first action starts the browser, which lives as long as the
	// context it runs on: that must be the tab's own, not one with a
	// timeout, so the wait is bounded here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium (%s): %v\n%s", exe, err, log)
		}
	case <-time.After(2 * browserTimeout):
		cancelTab()
		t.Fatalf("Chromium (%s) did not start within %v\n%s", exe, 2*browserTimeout, log)
	}
	return &browser{t: t, ctx: ctx}
}

// do runs actions on the tab within browserTimeout, failing the test on
// an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// open loads url in the tab and waits for the page to load.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression in the page.
func (b *browser) eval(expr string) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
}

// bodyText is the text of the page as a reader sees it.
func (b *browser) bodyText() string {
	s, _ := b.eval(`document.body ? document.body.innerText : ""`)
	return s
}

// waitText waits until the page's text holds every one of want, however
// the page got there (a reload of its own included), and returns it.
func (b *browser) waitText(want ...string) string {
	b.t.Helper()
	deadline := time.Now().Add(browserTimeout)
	last := ""
	for time.Now().Before(deadline) {
		last = b.bodyText()
		found := true
		for _, w := range want {
			found = found && strings.Contains(last, w)
		}
		if found {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("browser: the page never showed %q; it shows:\n%s", want, last)
	return ""
}

// html is the page's markup now.
func (b *browser) html() string {
	s, _ := b.eval(`document.documentElement ? document.documentElement.outerHTML : ""`)
	return s
}

// screenshot writes a PNG of the whole page to docs/images/NAME.png when
// the tests run with -update-screenshots; otherwise it only checks that
// the browser can take one.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	if !*updateScreenshots {
		return
	}
	dir := filepath.Join("..", "docs", "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote docs/images/%s.png", name)
}
