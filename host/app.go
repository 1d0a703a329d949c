package host

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// App is one app mounted without a plugins folder: from a file, or from
// Lua source held in memory.
type App struct {
	// Mount is the path prefix the app serves, "/" for everything; it
	// becomes SCRIPT_NAME (after Config.Root).
	Mount string

	// File is a Lua file; its folder is the app's module folder. When it
	// is "", Source is used instead.
	File string

	// Source is the app's Lua source, used when File is "".
	Source string

	// Name names the app in logs; the default is File's base name without
	// ".lua", or "app".
	Name string
}

func (a *App) name() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.File != "":
		return strings.TrimSuffix(filepath.Base(a.File), ".lua")
	}
	return "app"
}

// prefix returns the mount prefix in the registry's form: "" for the root,
// otherwise "/a/b" with no trailing slash.
func (a *App) prefix() (string, error) {
	m := strings.TrimSuffix(a.Mount, "/")
	if m != "" && !strings.HasPrefix(m, "/") {
		return "", fmt.Errorf("host: app %s: mount %q must start with /", a.name(), a.Mount)
	}
	return m, nil
}

func (a *App) source() ([]byte, error) {
	if a.File == "" {
		return []byte(a.Source), nil
	}
	src, err := os.ReadFile(a.File)
	if err != nil {
		return nil, fmt.Errorf("host: read app %s: %w", a.File, err)
	}
	return src, nil
}

// chunk names the app's source in errors and tracebacks.
func (a *App) chunk() string {
	if a.File != "" {
		return a.File
	}
	return a.name() + ".lua"
}

// modules returns the app's module folder, nil for an app from source.
func (a *App) modules() fs.FS {
	if a.File == "" {
		return nil
	}
	return os.DirFS(filepath.Dir(a.File))
}

// escapePath escapes a decoded URL path the way net/url does.
func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}
