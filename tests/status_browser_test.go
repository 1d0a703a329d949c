package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStatusPageBrowser opens the admin listener's status page in headless
// Chromium and checks that it lists the apps. With LSGI_UPDATE_SCREENSHOTS=1
// it writes docs/images/status-page.png:
//
//	LSGI_UPDATE_SCREENSHOTS=1 go test ./tests -run TestStatusPageBrowser
func TestStatusPageBrowser(t *testing.T) {
	exe := statusChromium(t)
	s := startServerFiles(t, "", opsApps, "--admin-bind", "127.0.0.1:0")
	admin := s.adminBase(t)
	for range 20 {
		s.get(t, "/hello")
	}
	s.get(t, "/logs")
	s.get(t, "/boom")

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 640),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
	)
	defer cancelAlloc() // waits for the browser's process to exit
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	// The browser lives as long as the context of its first action, so
	// that one is the tab's own and the wait is bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(tab, chromedp.Navigate(admin+"/")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("open the status page in Chromium (%s): %v", exe, err)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("Chromium (%s) did not open the status page within 40s", exe)
	}
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LSGI status", "ready", "hello", "/hello", "logs", "boom", "broken", "not loaded", "broken.lua:", "net/http"} {
		if !strings.Contains(text, want) {
			t.Errorf("the status page does not show %q:\n%s", want, text)
		}
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tbody tr").length`))
	if err != nil || rows != len(opsApps) {
		t.Errorf("the status page lists %d apps (%v), want %d", rows, err, len(opsApps))
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if os.Getenv("LSGI_UPDATE_SCREENSHOTS") != "" {
		dir := filepath.Join("..", "docs", "images")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status-page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote docs/images/status-page.png")
	}
}

// statusChromium finds Chromium, or skips the test.
func statusChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed; install it to run the browser tests (Debian: apt-get install -y chromium)")
	return ""
}
