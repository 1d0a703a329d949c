package lualib

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSecretGenerated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := &Services{DataDir: dir}
	key, err := s.secretKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 64 {
		t.Fatalf("a generated secret has %d hex digits, want 64", len(key))
	}
	st, err := os.Stat(filepath.Join(dir, secretFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("the secret file has mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("the data folder made for it has mode %v, want 0700", st.Mode().Perm())
	}
	// Another host (or the next start) reads the same one.
	again, err := (&Services{DataDir: dir}).secretKey()
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("the secret was not reused: %q, %v", again, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".secret-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

// TestSecretRace: hosts starting at once on one data folder agree on one
// secret.
func TestSecretRace(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := (&Services{DataDir: dir}).secretKey()
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatalf("two secrets: %q and %q", keys[0], k)
		}
	}
}

func TestSecretGiven(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := &Services{DataDir: dir, Secret: []byte("a secret given by the operator")}
	key, err := s.secretKey()
	if err != nil || string(key) != "a secret given by the operator" {
		t.Fatalf("%q, %v", key, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("a given secret must not write the data folder")
	}
	if _, err := (&Services{Secret: []byte("short")}).secretKey(); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("a short secret: %v", err)
	}
	// Keys differ by app and by purpose, and depend on the secret.
	k := func(secret, app, purpose string) string {
		key, err := (&Services{Secret: []byte(secret)}).appKey(app, purpose)
		if err != nil {
			t.Fatal(err)
		}
		return string(key)
	}
	base := k("0123456789abcdef", "a", "p")
	for _, other := range []string{k("0123456789abcdeF", "a", "p"), k("0123456789abcdef", "b", "p"), k("0123456789abcdef", "a", "q"), k("0123456789abcdef", "a\x00p", "")} {
		if other == base {
			t.Fatal("two different inputs gave one key")
		}
	}
}

func TestSecretUnusable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, secretFile), []byte(" \n"), 0o600)
	if _, err := (&Services{DataDir: dir}).secretKey(); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("an empty secret file: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := (&Services{DataDir: filepath.Join(file, "data")}).secretKey(); err == nil {
		t.Fatal("a data folder that cannot be made must fail")
	}
}
