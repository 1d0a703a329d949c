package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCertificate writes a self-signed certificate for 127.0.0.1 and
// localhost, and its key, as PEM files, and returns the certificate.
func writeCertificate(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "lsgi test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

var httpsListeningRE = regexp.MustCompile(`Listening at: https://(127\.0\.0\.1:\d+)`)

const schemeApp = `return function(e, sr)
  sr("200 OK", {{"Content-Type", "text/plain"}})
  return {e["lsgi.url_scheme"], " ", e.SERVER_PROTOCOL, " ", tostring(e.HTTPS)}
end`

// TestTLS serves HTTPS with --certfile and --keyfile: HTTP/2 and HTTP/1.1
// from Go's client, HTTP/2 from curl, and a new certificate after SIGHUP.
func TestTLS(t *testing.T) {
	tmp := t.TempDir()
	certFile, keyFile := filepath.Join(tmp, "cert.pem"), filepath.Join(tmp, "key.pem")
	first := writeCertificate(t, certFile, keyFile, 1)
	dir := filepath.Join(tmp, "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scheme.lua"), []byte(schemeApp), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "lsgi serve (TLS)", tmp, nil, binPath, "serve", "--bind", "127.0.0.1:0",
		"--certfile", certFile, "--keyfile", keyFile, dir)
	addr := c.waitLine(t, httpsListeningRE)[1]
	url := "https://" + addr + "/scheme"

	client := func(root *x509.Certificate, h2 bool) *http.Client {
		pool := x509.NewCertPool()
		pool.AddCert(root)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	fetch := func(c *http.Client) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}

	t.Run("HTTP/2 from Go", func(t *testing.T) {
		resp, body := fetch(client(first, true))
		if resp.ProtoMajor != 2 || body != "https HTTP/2.0 on" {
			t.Errorf("got %s %q, want HTTP/2 and %q", resp.Proto, body, "https HTTP/2.0 on")
		}
	})
	t.Run("HTTP/1.1 from Go", func(t *testing.T) {
		resp, body := fetch(client(first, false))
		if resp.ProtoMajor != 1 || body != "https HTTP/1.1 on" {
			t.Errorf("got %s %q, want HTTP/1.1 and %q", resp.Proto, body, "https HTTP/1.1 on")
		}
	})
	t.Run("HTTP/2 from curl", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("curl not installed: apt-get install curl")
		}
		out, err := exec.Command(curl, "--silent", "--show-error", "--http2", "--cacert", certFile,
			"--write-out", "\n%{http_version}", url).CombinedOutput()
		if err != nil || string(out) != "https HTTP/2.0 on\n2" {
			t.Errorf("curl: %v\n%s", err, out)
		}
	})
	t.Run("a new certificate after SIGHUP", func(t *testing.T) {
		second := writeCertificate(t, certFile, keyFile, 2)
		mark := c.log.len()
		if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		reloaded := regexp.MustCompile(`TLS certificate reloaded`)
		if _, _, ok := c.log.waitMatch(reloaded, logTimeout, c.exited); !ok {
			t.Fatalf("no reload line after SIGHUP:\n%s", c.log)
		}
		if lines, _ := c.log.since(mark); !strings.Contains(strings.Join(lines, "\n"), "TLS certificate reloaded") {
			t.Fatalf("the reload line is an old one:\n%s", c.log)
		}
		resp, body := fetch(client(second, true))
		if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 2 || body != "https HTTP/2.0 on" {
			t.Errorf("after SIGHUP: certificate serial %d, body %q; want 2", got, body)
		}
	})
}

// TestTLSFlags checks the flag combinations that cannot work.
func TestTLSFlags(t *testing.T) {
	tmp := t.TempDir()
	certFile, keyFile := filepath.Join(tmp, "cert.pem"), filepath.Join(tmp, "key.pem")
	writeCertificate(t, certFile, keyFile, 1)
	if err := os.WriteFile(filepath.Join(tmp, "garbage.pem"), []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		args []string
		code int
		want string
	}{
		{"a certificate without its key", []string{"--certfile", certFile}, 2, "-certfile and -keyfile go together"},
		{"TLS over FastCGI", []string{"--certfile", certFile, "--keyfile", keyFile, "--fastcgi"}, 2, "FastCGI has no TLS"},
		{"a file that is no certificate", []string{"--certfile", filepath.Join(tmp, "garbage.pem"), "--keyfile", keyFile}, 1, "load TLS certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			args := append(append([]string{"serve", "--bind", "127.0.0.1:0"}, tt.args...), tmp)
			out, err := exec.Command(binPath, args...).CombinedOutput()
			exit, ok := err.(*exec.ExitError)
			if !ok || exit.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
				t.Errorf("lsgi %v: %v, want exit %d with %q\n%s", args, err, tt.code, tt.want, out)
			}
		})
	}
}
