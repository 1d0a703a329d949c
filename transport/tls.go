package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Certificate is a TLS certificate and its key read from PEM files
// (gunicorn's certfile and keyfile), which [Certificate.Reload] reads
// again, so that a renewed certificate is taken up without a restart:
// handshakes that follow a reload use the new one, connections already
// open keep theirs. It is safe for concurrent use.
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads a certificate chain (the server's first) and its
// private key from PEM files.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On error the certificate in use stays.
func (c *Certificate) Reload() error {
	if c.certFile == "" || c.keyFile == "" {
		return errors.New("transport: TLS needs both a certificate file and a key file")
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("transport: load TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("transport: parse TLS certificate %s: %w", c.certFile, err)
	}
	pair.Leaf = leaf
	c.cur.Store(&pair)
	return nil
}

// NotAfter returns the end of the current certificate's validity.
func (c *Certificate) NotAfter() time.Time { return c.cur.Load().Leaf.NotAfter }

// GetCertificate implements [tls.Config.GetCertificate].
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// TLSConfig returns a server configuration that presents c: TLS 1.2 and
// up, and HTTP/2 as well as HTTP/1.1 when an [http.Server] serves it
// (ServeTLS adds "h2" to the protocols offered).
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
