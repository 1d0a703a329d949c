package lualib

// This file implements the lfs shim: the read-only part of LuaFileSystem
// (lfs) that pure-Lua libraries such as wsapi.common and pl.path need at
// load time, over the app's own folder. It is offered only to apps that
// bring no lfs module of their own (see shims.go).

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"

	"github.com/lsgi/lsgi/luabridge/appfs"
	lua "github.com/yuin/gopher-lua"
)

// lfsVersion is the shim's lfs._VERSION: it says what it is rather than
// claiming a LuaFileSystem release.
const lfsVersion = "LSGI lfs 1.0 (read-only, the app's folder)"

// lfsAttributes lists the attribute names of lfs.attributes. Those the shim
// cannot know portably from an fs.FS (device, inode, owner, blocks) read as
// nil rather than as made-up numbers.
var lfsAttributes = []string{
	"dev", "ino", "mode", "nlink", "uid", "gid", "rdev", "access",
	"modification", "change", "size", "permissions", "blocks", "blksize",
}

// errNoFolder reports an app without a folder of its own (a single-file
// plugin): the shim has nothing it may show.
var errNoFolder = errors.New("this app has no folder of its own (lfs sees only a folder plugin's NAME/ folder)")

// errOutsideFolder reports a path that names something outside the app's
// folder: absolute, or climbing out with "..".
var errOutsideFolder = errors.New("outside the app's folder (paths are relative to it)")

// lfsDirType names the userdata type of lfs.dir's directory objects.
const lfsDirType = "lsgi.lfs.dir"

// lfsDir is a directory object of lfs.dir: the names, read when it was
// opened, and the position of the next one.
type lfsDir struct {
	names  []string
	next   int
	closed bool
}

func (s *Shared) openLFS(L *lua.LState) int {
	mod := newModule(L, map[string]lua.LGFunction{
		"attributes":        s.lfsAttributes(false),
		"symlinkattributes": s.lfsAttributes(true),
		"currentdir":        lfsCurrentdir,
		"chdir":             s.lfsChdir,
		"dir":               s.lfsDirOpen,
		"setmode":           lfsSetmode,
		"mkdir":             lfsReadOnly("mkdir"),
		"rmdir":             lfsReadOnly("rmdir"),
		"touch":             lfsReadOnly("touch"),
		"link":              lfsReadOnly("link"),
		"lock":              lfsReadOnly("lock"),
		"unlock":            lfsReadOnly("unlock"),
		"lock_dir":          lfsReadOnly("lock_dir"),
	})
	mod.RawSetString("_VERSION", lua.LString(lfsVersion))
	meta := L.NewTypeMetatable(lfsDirType)
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"next": lfsDirNext, "close": lfsDirClose})
	meta.RawSetString("__index", methods)
	L.Push(mod)
	return 1
}

// lfsPath turns a path given by Lua into a path of the app's folder: "."
// and "./x" name the folder and x in it; absolute paths and paths that
// climb out of it are refused.
func (s *Shared) lfsPath(p string) (string, error) {
	if s.fsys == nil {
		return "", errNoFolder
	}
	if p == "" || strings.ContainsRune(p, 0) {
		return "", fs.ErrNotExist
	}
	if path.IsAbs(p) {
		return "", errOutsideFolder
	}
	clean := path.Clean(p)
	if !fs.ValidPath(clean) {
		return "", errOutsideFolder
	}
	return clean, nil
}

// lfsStat returns the file information of p in the app's folder. With
// lstat a final symbolic link is described itself (and target is where it
// points); otherwise links are followed as long as they stay inside the
// folder.
func (s *Shared) lfsStat(p string, lstat bool) (fi fs.FileInfo, target string, err error) {
	name, err := s.lfsPath(p)
	if err != nil {
		return nil, "", err
	}
	if lstat {
		if rl, ok := s.fsys.(fs.ReadLinkFS); ok {
			dir, base := path.Split(name)
			real, err := appfs.Resolve(s.fsys, ".", strings.TrimSuffix(dir, "/"))
			if err != nil {
				return nil, "", err
			}
			full := appfs.Join(real, base)
			if fi, err = rl.Lstat(full); err != nil {
				return nil, "", err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, _ = rl.ReadLink(full)
			}
			return fi, target, nil
		}
	}
	real, err := appfs.Resolve(s.fsys, ".", name)
	if err != nil {
		return nil, "", err
	}
	fi, err = fs.Stat(s.fsys, real)
	return fi, "", err
}

// lfsFail pushes lfs's failure results: nil, a message and, when the cause
// is a system error, its number.
func lfsFail(L *lua.LState, msg string, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(msg + ": " + lfsReason(err)))
	if errno, ok := lfsErrno(err); ok {
		L.Push(lua.LNumber(errno))
		return 3
	}
	return 2
}

// lfsErrno returns the system error number behind err, if there is one.
func lfsErrno(err error) (syscall.Errno, bool) {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno, true
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT, true
	}
	return 0, false
}

// lfsReason words err the way C's strerror does where it can ("No such
// file or directory"), as lfs's messages read.
func lfsReason(err error) string {
	if errno, ok := lfsErrno(err); ok {
		msg := errno.Error()
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		return msg
	}
	if errors.Is(err, appfs.ErrOutside) {
		return "a symbolic link leads out of the app's folder"
	}
	return err.Error()
}

// lfsAttributes implements lfs.attributes(path [, name | table]) and, with
// lstat, lfs.symlinkattributes.
func (s *Shared) lfsAttributes(lstat bool) lua.LGFunction {
	return func(L *lua.LState) int {
		p := L.CheckString(1)
		fi, target, err := s.lfsStat(p, lstat)
		if err != nil {
			return lfsFail(L, fmt.Sprintf("cannot obtain information from file '%s'", p), err)
		}
		attrs := lfsAttributeTable(L, fi)
		if lstat && target != "" {
			attrs.RawSetString("target", lua.LString(target))
		}
		switch arg := L.Get(2).(type) {
		case lua.LString:
			name := string(arg)
			if !lfsKnownAttribute(name) && !(lstat && name == "target") {
				L.ArgError(2, fmt.Sprintf("invalid attribute name '%s'", name))
			}
			L.Push(attrs.RawGetString(name))
		case *lua.LTable:
			attrs.ForEach(func(k, v lua.LValue) { arg.RawSet(k, v) })
			L.Push(arg)
		case *lua.LNilType:
			L.Push(attrs)
		default:
			L.ArgError(2, "attribute name or table expected")
		}
		return 1
	}
}

func lfsKnownAttribute(name string) bool {
	for _, a := range lfsAttributes {
		if a == name {
			return true
		}
	}
	return false
}

// lfsAttributeTable describes fi as lfs does.
func lfsAttributeTable(L *lua.LState, fi fs.FileInfo) *lua.LTable {
	t := L.CreateTable(0, 8)
	mtime := lua.LNumber(fi.ModTime().Unix())
	t.RawSetString("mode", lua.LString(lfsMode(fi.Mode())))
	t.RawSetString("size", lua.LNumber(fi.Size()))
	t.RawSetString("modification", mtime)
	// An fs.FS reports one time only: access and change read the same.
	t.RawSetString("access", mtime)
	t.RawSetString("change", mtime)
	t.RawSetString("permissions", lua.LString(fi.Mode().Perm().String()[1:]))
	return t
}

// lfsMode names a file type as lfs does.
func lfsMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "link"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeCharDevice != 0:
		return "char device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "other"
}

// lfsCurrentdir: the app's folder is where relative paths start, so it is
// the current directory as far as the app can tell.
func lfsCurrentdir(L *lua.LState) int {
	L.Push(lua.LString("."))
	return 1
}

// lfsChdir accepts only the app's folder itself: the process's working
// directory is shared by every app and request.
func (s *Shared) lfsChdir(L *lua.LState) int {
	p := L.CheckString(1)
	name, err := s.lfsPath(p)
	if err != nil {
		return lfsFail(L, fmt.Sprintf("unable to change working directory to '%s'", p), err)
	}
	if name != "." {
		L.Push(lua.LNil)
		L.Push(lua.LString(fmt.Sprintf("unable to change working directory to '%s': apps share the server's working directory; use paths relative to the app's folder", p)))
		return 2
	}
	L.Push(lua.LTrue)
	return 1
}

// lfsDirOpen implements lfs.dir(path) -> iterator, directory object. Like
// lfs it raises when the folder cannot be read.
func (s *Shared) lfsDirOpen(L *lua.LState) int {
	p := L.CheckString(1)
	name, err := s.lfsPath(p)
	if err == nil {
		name, err = appfs.Resolve(s.fsys, ".", name)
	}
	var entries []fs.DirEntry
	if err == nil {
		entries, err = fs.ReadDir(s.fsys, name)
	}
	if err != nil {
		L.RaiseError("cannot open %s: %s", p, lfsReason(err))
	}
	d := &lfsDir{names: make([]string, 0, len(entries)+2)}
	d.names = append(d.names, ".", "..")
	for _, e := range entries {
		d.names = append(d.names, e.Name())
	}
	ud := L.NewUserData()
	ud.Value = d
	L.SetMetatable(ud, L.GetTypeMetatable(lfsDirType))
	L.Push(L.NewFunction(lfsDirNext))
	L.Push(ud)
	return 2
}

func checkLFSDir(L *lua.LState) *lfsDir {
	ud := L.CheckUserData(1)
	d, ok := ud.Value.(*lfsDir)
	if !ok {
		L.ArgError(1, "directory object expected")
	}
	return d
}

// lfsDirNext returns the next name, or nil (and closes the object) at the
// end.
func lfsDirNext(L *lua.LState) int {
	d := checkLFSDir(L)
	if d.closed {
		L.RaiseError("closed directory")
	}
	if d.next >= len(d.names) {
		d.closed = true
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(d.names[d.next]))
	d.next++
	return 1
}

func lfsDirClose(L *lua.LState) int {
	checkLFSDir(L).closed = true
	return 0
}

// lfsSetmode: files have no text mode on POSIX systems, so every file is
// already in binary mode, which is what WSAPI's launchers ask for.
func lfsSetmode(L *lua.LState) int {
	L.Push(lua.LTrue)
	L.Push(lua.LString("binary"))
	return 2
}

// lfsReadOnly returns the stand-in of a function that would change files:
// it fails as lfs functions fail, with nil and a message.
func lfsReadOnly(name string) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(lua.LNil)
		L.Push(lua.LString(fmt.Sprintf("lfs.%s: apps cannot change files (the host's lfs only reads the app's folder)", name)))
		return 2
	}
}
