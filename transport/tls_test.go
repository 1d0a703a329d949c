package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed certificate with the given serial and its
// key to dir, as cert.pem and key.pem.
func writePair(t *testing.T, dir string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Duration(serial) * time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	must(os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
}

func serial(t *testing.T, c *Certificate) int64 {
	t.Helper()
	got, err := c.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Leaf.SerialNumber.Int64()
}

func TestCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	tests := []struct {
		desc, cert, key, wantErr string
	}{
		{"no key file", certFile, "", "needs both"},
		{"a missing file", filepath.Join(dir, "none.pem"), keyFile, "load TLS certificate"},
		{"a key that is not the certificate's", certFile, filepath.Join(dir, "other-key.pem"), "private key does not match"},
	}
	writePair(t, dir, 1)
	other := t.TempDir()
	writePair(t, other, 9)
	if err := os.Rename(filepath.Join(other, "key.pem"), filepath.Join(dir, "other-key.pem")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if _, err := LoadCertificate(tt.cert, tt.key); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadCertificate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}

	c, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if serial(t, c) != 1 || c.TLSConfig().MinVersion != tls.VersionTLS12 {
		t.Fatalf("first certificate: serial %d", serial(t, c))
	}
	writePair(t, dir, 2)
	if err := c.Reload(); err != nil || serial(t, c) != 2 || time.Until(c.NotAfter()) < time.Hour {
		t.Fatalf("after Reload: %v, serial %d, not after %v", err, serial(t, c), c.NotAfter())
	}
	if err := os.WriteFile(certFile, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err == nil || serial(t, c) != 2 {
		t.Errorf("a failed Reload = %v and serial %d; want an error and the previous certificate kept", err, serial(t, c))
	}
}
