package devmode

import (
	"encoding/json"
	"net/http"
)

// Index is the page that lists the mounted apps: what / shows under --dev
// when no index.lua takes it, and what a path no app serves shows, with a
// note saying why.
type Index struct {
	Status int    // 200 for /, 404 for a path no app serves
	Path   string // the path asked for, for a 404
	Note   string // why nothing serves Path
	Apps   []MountedApp
	Reload Reload
}

// MountedApp is one app of an [Index].
type MountedApp struct {
	Name  string `json:"name"`
	Mount string `json:"mount"` // "/hello", "/" for the root app
	URL   string `json:"url"`   // the app's address, Root included
	File  string `json:"file"`
	Error string `json:"error,omitempty"` // the newest load's error, if it failed
}

// HTML renders the index as a page.
func (ix *Index) HTML() string {
	status := ix.status()
	heading := "Apps served here"
	if status == http.StatusNotFound {
		heading = "No app serves this path"
	}
	return render("index", map[string]any{
		"Title": heading, "Heading": heading, "Status": status, "Path": ix.Path,
		"Note": ix.Note, "Apps": ix.Apps, "Script": ix.Reload.script(),
	})
}

// JSON renders the index for API clients: {"apps": [...], "note": ...}.
func (ix *Index) JSON() string {
	apps := ix.Apps
	if apps == nil {
		apps = []MountedApp{}
	}
	data, err := json.Marshal(struct {
		Status int          `json:"status"`
		Path   string       `json:"path,omitempty"`
		Note   string       `json:"note,omitempty"`
		Apps   []MountedApp `json:"apps"`
	}{ix.status(), ix.Path, ix.Note, apps})
	if err != nil {
		return `{"error":"devmode: cannot encode the index"}`
	}
	return string(data) + "\n"
}

// Render returns the body and Content-Type for a client whose Accept
// header is accept, as [Error.Render] does.
func (ix *Index) Render(accept string) (body, contentType string) {
	if WantsJSON(accept) {
		return ix.JSON(), "application/json; charset=utf-8"
	}
	return ix.HTML(), "text/html; charset=utf-8"
}

func (ix *Index) status() int {
	if ix.Status == 0 {
		return http.StatusOK
	}
	return ix.Status
}
