package tests

import (
	"strconv"
	"testing"
)

// TestStatusPageBrowser opens the admin listener's status page in headless
// Chromium and checks that it lists the apps. With -update-screenshots it
// writes docs/images/status-page.png:
//
//	go test ./tests -run TestStatusPageBrowser -update-screenshots
func TestStatusPageBrowser(t *testing.T) {
	b := startBrowser(t)
	s := startServerFiles(t, "", opsApps, "--admin-bind", "127.0.0.1:0")
	admin := s.adminBase(t)
	for range 20 {
		s.get(t, "/hello")
	}
	s.get(t, "/logs")
	s.get(t, "/boom")

	b.open(admin + "/")
	b.waitText("LSGI status", "ready", "hello", "/hello", "logs", "boom", "broken", "not loaded", "broken.lua:", engineName())
	rows, err := b.eval(`String(document.querySelectorAll("tbody tr").length)`)
	if err != nil || rows != strconv.Itoa(len(opsApps)) {
		t.Errorf("the status page lists %s apps (%v), want %d", rows, err, len(opsApps))
	}
	b.screenshot("status-page")
}
