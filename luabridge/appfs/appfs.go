// Package appfs reads an app's files from its folder without letting a
// symbolic link lead out of it. require, dofile, loadfile, lsgi.template
// and lsgi.middleware.static all read through it (docs/SPEC.md, "The Lua
// environment"), so the rule is the same for each.
//
// A link is followed only while its target stays inside the folder: a
// link with an absolute target, or a relative one that climbs out, is
// refused with [ErrOutside]. Links inside the folder work, so an app can
// alias its own files.
//
// The check reads links one path segment at a time through
// [fs.ReadLinkFS], which os.DirFS, os.Root's FS and fstest.MapFS
// implement; a file system that cannot report links is read as it is. A
// link made between the check and the read is not seen: a host that needs
// that closed as well serves its folders through os.Root's FS, which
// refuses such escapes itself.
package appfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ErrOutside reports a symbolic link that leads out of the folder.
var ErrOutside = errors.New("appfs: symbolic link leads out of the app's folder")

// maxHops bounds the links followed for one name, as the kernel's ELOOP.
const maxHops = 40

// Resolve follows the symbolic links in name, a valid fs path, and
// returns the path with no links left. Every link must stay within dir
// ("." for the whole of fsys); otherwise the error wraps [ErrOutside]. A
// missing file gives an error wrapping fs.ErrNotExist.
func Resolve(fsys fs.FS, dir, name string) (string, error) {
	rl, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return name, nil
	}
	parts := strings.Split(name, "/")
	resolved := "."
	hops := 0
	for i := 0; i < len(parts); i++ {
		if parts[i] == "." || parts[i] == "" {
			continue
		}
		next := Join(resolved, parts[i])
		fi, err := rl.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > maxHops {
			return "", fmt.Errorf("appfs: %s: too many levels of symbolic links", name)
		}
		target, err := rl.ReadLink(next)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") || strings.HasPrefix(target, "\\") || path.IsAbs(target) {
			return "", fmt.Errorf("%s: %w", name, ErrOutside)
		}
		t := path.Join(path.Dir(next), target)
		if t == ".." || strings.HasPrefix(t, "../") || !Within(t, dir) {
			return "", fmt.Errorf("%s: %w", name, ErrOutside)
		}
		parts = append(strings.Split(t, "/"), parts[i+1:]...)
		resolved, i = ".", -1
	}
	return resolved, nil
}

// ReadFile reads the file name of fsys once its links are resolved within
// the whole of fsys.
func ReadFile(fsys fs.FS, name string) ([]byte, error) {
	real, err := Resolve(fsys, ".", name)
	if err != nil {
		return nil, ownError(fsys, name, err)
	}
	return fs.ReadFile(fsys, real)
}

// Stat describes the file name of fsys once its links are resolved within
// the whole of fsys.
func Stat(fsys fs.FS, name string) (fs.FileInfo, error) {
	real, err := Resolve(fsys, ".", name)
	if err != nil {
		return nil, ownError(fsys, name, err)
	}
	return fs.Stat(fsys, real)
}

// ownError reports a missing file with the error the file system gives
// for name itself, rather than the Lstat error of one of its segments.
func ownError(fsys fs.FS, name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		if _, ferr := fs.Stat(fsys, name); ferr != nil {
			return ferr
		}
	}
	return err
}

// Join joins a folder and a relative path that are both valid fs paths.
func Join(dir, rel string) string {
	switch {
	case rel == "" || rel == ".":
		return dir
	case dir == ".":
		return rel
	}
	return dir + "/" + rel
}

// Within reports whether name is dir or inside it.
func Within(name, dir string) bool {
	return dir == "." || name == dir || strings.HasPrefix(name, dir+"/")
}
