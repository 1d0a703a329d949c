package lualib

// This file keeps the host's secret key and derives each app's keys from
// it, so that one app's session cookies and tokens mean nothing to another.

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// secretFile is the name of the generated secret in the data folder.
const secretFile = "secret"

// minSecretLen is the shortest secret accepted, in bytes.
const minSecretLen = 16

// secretKey returns the host's secret: Services.Secret, or the one kept in
// the data folder, generated there the first time.
func (s *Services) secretKey() ([]byte, error) {
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if s.secret != nil {
		return s.secret, nil
	}
	key := s.Secret
	if key == nil {
		var err error
		if key, err = loadOrMakeSecret(filepath.Join(s.dataDir(), secretFile)); err != nil {
			return nil, err
		}
	}
	if len(key) < minSecretLen {
		return nil, fmt.Errorf("lualib: the secret has %d bytes; at least %d are needed (lsgi serve --secret, or LSGI_SECRET)", len(key), minSecretLen)
	}
	s.secret = key
	return key, nil
}

// appKey derives the key of app for purpose from the host's secret.
func (s *Services) appKey(app, purpose string) ([]byte, error) {
	secret, err := s.secretKey()
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lsgi app key\x00"))
	m.Write([]byte(app))
	m.Write([]byte{0})
	m.Write([]byte(purpose))
	return m.Sum(nil), nil
}

// loadOrMakeSecret reads the secret kept at path, or generates one and
// writes it there, readable by its owner only. Two hosts starting at once
// agree on one: the file appears whole, by a hard link, or not at all.
func loadOrMakeSecret(path string) ([]byte, error) {
	if key, err := readSecret(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lualib: make the data folder for the secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("lualib: generate a secret: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".secret-*")
	if err != nil {
		return nil, fmt.Errorf("lualib: write the secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(raw) + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600)); err != nil {
		return nil, fmt.Errorf("lualib: write the secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("lualib: write the secret: %w", err)
	}
	return readSecret(path)
}

// readSecret reads a secret file: its content without surrounding white
// space.
func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lualib: read the secret: %w", err)
	}
	key := bytes.TrimSpace(b)
	if len(key) == 0 {
		return nil, fmt.Errorf("lualib: the secret file %s is empty", path)
	}
	return key, nil
}
