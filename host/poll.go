package host

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// racyWindow: files modified this recently are compared by content when
// polling, since file system timestamps are coarser than edits.
const racyWindow = 2 * time.Second

// pollBatch: when more plugins than this changed between two polls (a git
// checkout, a deploy), one update looks at the whole folder instead of one
// update per plugin.
const pollBatch = 64

// pollShare bounds the time polling takes: the wait between two scans is
// at least this many times as long as a scan took, so that polling a folder
// of 10,000 plugins (about 0.15 s a scan) uses a tenth of a CPU at most,
// whatever the interval asked for.
const pollShare = 10

// polling compares, at every tick, a fingerprint of each plugin's files
// (names, sizes and modification times, symlinks followed) with the last
// one, and asks for a sync of the plugins whose fingerprint changed, came
// or went: with thousands of plugins, an edit reloads one of them, not a
// rescan of all.
func (w *watcher) polling() {
	defer w.wg.Done()
	start := time.Now()
	last := w.snapshot()
	t := time.NewTimer(max(w.poll, pollShare*time.Since(start)))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			start := time.Now()
			now := w.snapshot()
			took := time.Since(start)
			for _, key := range changedKeys(last, now) {
				select {
				case w.work <- key:
				case <-w.stop:
					return
				}
			}
			last = now
			t.Reset(max(w.poll, pollShare*took))
		case <-w.stop:
			return
		}
	}
}

// changedKeys lists the plugins whose fingerprints differ between two
// snapshots, or just allPlugins when there are more than pollBatch.
func changedKeys(old, now map[string][32]byte) []string {
	var keys []string
	for key, fp := range now {
		if prev, ok := old[key]; !ok || prev != fp {
			keys = append(keys, key)
		}
	}
	for key := range old {
		if _, ok := now[key]; !ok {
			keys = append(keys, key)
		}
	}
	if len(keys) > pollBatch {
		return []string{allPlugins}
	}
	return keys
}

// snapshot fingerprints the folder plugin by plugin: the key is the
// plugin name an entry of the folder belongs to (NAME.lua and NAME/ both to
// NAME), as event maps events.
func (w *watcher) snapshot() map[string][32]byte {
	hashes := map[string]hash.Hash{}
	entries, err := os.ReadDir(w.root)
	if err != nil {
		return map[string][32]byte{}
	}
	realRoot, err := filepath.EvalSymlinks(w.root)
	if err != nil {
		return map[string][32]byte{}
	}
	for _, e := range entries {
		if ignored(e.Name()) {
			continue
		}
		key := e.Name()
		p := filepath.Join(w.root, key)
		real := filepath.Join(realRoot, key)
		st, err := e.Info()
		if err == nil && st.Mode()&os.ModeSymlink != 0 {
			// A link, as a ConfigMap's entries are: what it points at.
			if st, err = os.Stat(p); err == nil && st.IsDir() {
				real, err = filepath.EvalSymlinks(p)
			}
		}
		if err != nil {
			continue
		}
		if !st.IsDir() {
			key = strings.TrimSuffix(key, ".lua")
		}
		h := hashes[key]
		if h == nil {
			h = sha256.New()
			hashes[key] = h
		}
		if !st.IsDir() {
			fileLine(h, p, st)
			continue
		}
		walkDirsAt(p, real, func(dir string, entries []os.DirEntry) {
			for _, e := range entries {
				if ignored(e.Name()) || e.IsDir() {
					continue
				}
				f := filepath.Join(dir, e.Name())
				st, err := e.Info()
				if err == nil && st.Mode()&os.ModeSymlink != 0 {
					st, err = os.Stat(f)
				}
				if err == nil && !st.IsDir() {
					fileLine(h, f, st)
				}
			}
		})
	}
	out := make(map[string][32]byte, len(hashes))
	for key, h := range hashes {
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		out[key] = sum
	}
	return out
}

// fileLine adds a file's name, size and modification time to h, and its
// content when it changed within racyWindow: two writes within one
// timestamp tick can leave size and time unchanged (git's "racy" files).
func fileLine(h hash.Hash, path string, st os.FileInfo) {
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00", path, st.Size(), st.ModTime().UnixNano())
	if time.Since(st.ModTime()) < racyWindow {
		if data, err := os.ReadFile(path); err == nil {
			sum := sha256.Sum256(data)
			h.Write(sum[:])
		}
	}
	h.Write([]byte{'\n'})
}
