package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lsgi/lsgi/host"
)

// scaffold holds the apps lsgi new writes: plain.lua, and router/ for
// --router. "__NAME__" in them becomes the app's name.
//
//go:embed scaffold
var scaffold embed.FS

// newApp writes a working plugin from a template: DIR/NAME.lua, or with
// --router the folder DIR/NAME/ with init.lua, a template and a
// stylesheet. It never overwrites anything.
func newApp(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lsgi new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	router := fs.Bool("router", false, "write a folder plugin built on the toolkit: lsgi.router, a template and a static folder")
	dir := fs.String("dir", "plugins", "the plugins `folder` to write into")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lsgi new [flags] NAME\n\nWrite a new app, served at /NAME: DIR/NAME.lua, or with --router the folder DIR/NAME/.\n\nflags:\n")
		fs.PrintDefaults()
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		return 2
	}
	name := strings.TrimSuffix(positional[0], ".lua")
	if !host.ValidPluginName(name) {
		fmt.Fprintf(stderr, "lsgi new: %q cannot name an app: it becomes the URL path /NAME, so use letters, digits, '-', '_' and '.', not starting with '.'\n", name)
		return 2
	}
	written, err := writeScaffold(*dir, name, *router)
	if err != nil {
		fmt.Fprintf(stderr, "lsgi new: %v\n", err)
		return 1
	}
	for _, file := range written {
		fmt.Fprintf(stdout, "created %s\n", file)
	}
	mount := "/" + name
	if name == "index" {
		mount = "/"
	}
	fmt.Fprintf(stdout, "\nServe it with `lsgi serve --dev %s` and open http://127.0.0.1:8000%s\n", *dir, mount)
	return 0
}

// writeScaffold writes the app name into dir and returns the files it
// wrote. A plugin of that name, as a file or a folder, is an error.
func writeScaffold(dir, name string, router bool) ([]string, error) {
	for _, taken := range []string{name + ".lua", name} {
		if _, err := os.Lstat(filepath.Join(dir, taken)); err == nil {
			return nil, fmt.Errorf("%s already exists; nothing was written (choose another name, or remove it first)", filepath.Join(dir, taken))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !router {
		file := filepath.Join(dir, name+".lua")
		return []string{file}, writeNew(file, "scaffold/plain.lua", name)
	}
	root := filepath.Join(dir, name)
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	var written []string
	err := fs.WalkDir(scaffold, "scaffold/router", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "scaffold/router"), "/")
		target := filepath.Join(root, filepath.FromSlash(rel))
		if d.IsDir() {
			if rel == "" {
				return nil
			}
			return os.Mkdir(target, 0o755)
		}
		written = append(written, target)
		return writeNew(target, p, name)
	})
	return written, err
}

// writeNew writes the scaffold file src as file, which must not exist.
func writeNew(file, src, name string) error {
	data, err := scaffold.ReadFile(path.Clean(src))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.ReplaceAll(string(data), "__NAME__", name))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
