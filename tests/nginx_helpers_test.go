package tests

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lookTool finds a program on PATH or in the sbin folders, where Debian
// puts nginx and fcgiwrap, or skips the test.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Skipf("%s is not installed; install it to run this test (Debian: apt-get install -y %s)", name, pkg)
	return ""
}

// nginx is a running nginx in the foreground (daemon off, master_process
// off), with its configuration, pid file, temporary files and logs in the
// test's temporary folder.
type nginx struct {
	*child
	port    string // the plain HTTP listener on 127.0.0.1
	tlsPort string // the TLS listener, "" unless asked for
	base    string // http://127.0.0.1:PORT
	tlsBase string // https://127.0.0.1:TLSPORT
}

// nginxConf is the whole configuration: {{prefix}} is the prefix folder,
// {{http}} more directives of the http block (upstream blocks),
// {{listen}} the listen directives, {{locations}} the body of the server
// block.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid {{prefix}}/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path {{prefix}}/client_body;
  fastcgi_temp_path {{prefix}}/fastcgi;
  proxy_temp_path {{prefix}}/proxy;
  uwsgi_temp_path {{prefix}}/uwsgi;
  scgi_temp_path {{prefix}}/scgi;
{{http}}
  server {
{{listen}}
    server_name localhost;
{{locations}}
  }
}
`

// addrInUseRE matches nginx's complaint about a port taken meanwhile.
var addrInUseRE = regexp.MustCompile(`Address already in use`)

// startNginx runs nginx with one server block whose body is locations, on
// free ports of 127.0.0.1 (plain HTTP, and TLS too when withTLS is set),
// and waits until it accepts connections. The test is skipped when nginx
// is not installed.
func startNginx(t *testing.T, locations string, withTLS bool) *nginx {
	t.Helper()
	return startNginxHTTP(t, "", locations, withTLS)
}

// startNginxHTTP is startNginx with more directives for the http block,
// such as the upstream blocks that locations refer to.
func startNginxHTTP(t *testing.T, http, locations string, withTLS bool) *nginx {
	t.Helper()
	bin := lookTool(t, "nginx", "nginx-light")
	if strings.Contains(locations, fastCGIParams) {
		needFastCGIParams(t)
	}
	prefix := t.TempDir()
	var tlsConf string
	if withTLS {
		cert, key := testCertFiles(t)
		tlsConf = "    ssl_certificate " + cert + ";\n    ssl_certificate_key " + key + ";\n"
	}
	// nginx cannot pick a free port itself: take one that was free, and
	// try again should another process grab it first.
	for attempt := 1; ; attempt++ {
		n := &nginx{port: freePort(t)}
		listen := "    listen 127.0.0.1:" + n.port + ";\n"
		if withTLS {
			n.tlsPort = freePort(t)
			listen += "    listen 127.0.0.1:" + n.tlsPort + " ssl;\n" + tlsConf
		}
		conf := filepath.Join(prefix, "nginx.conf")
		if err := os.WriteFile(conf, []byte(renderNginxConf(prefix, http, listen, locations)), 0o644); err != nil {
			t.Fatal(err)
		}
		n.child = startChild(t, "nginx", prefix, nil, bin, "-p", prefix, "-c", conf)
		ok := n.waitDial("tcp", "127.0.0.1:"+n.port)
		if ok && withTLS {
			ok = n.waitDial("tcp", "127.0.0.1:"+n.tlsPort)
		}
		if ok {
			n.base = "http://127.0.0.1:" + n.port
			n.tlsBase = "https://127.0.0.1:" + n.tlsPort
			return n
		}
		<-n.exited
		if _, busy := n.log.find(addrInUseRE); !busy || attempt == 3 {
			t.Fatalf("nginx did not start (%v):\n%s\nconfiguration:\n%s", n.waitErr, n.log, renderNginxConf(prefix, http, listen, locations))
		}
		n.exitExpected.Store(true) // its failure to start is handled here
	}
}

func renderNginxConf(prefix, http, listen, locations string) string {
	return strings.NewReplacer("{{prefix}}", prefix, "{{http}}", http, "{{listen}}", listen, "{{locations}}", locations).Replace(nginxConf)
}

// startFcgiwrap runs fcgiwrap on a Unix socket and returns the socket's
// path. The test is skipped when fcgiwrap is not installed.
func startFcgiwrap(t *testing.T) string {
	t.Helper()
	bin := lookTool(t, "fcgiwrap", "fcgiwrap")
	sock := filepath.Join(socketDir(t), "fcgiwrap.sock")
	c := startChild(t, "fcgiwrap", filepath.Dir(sock), nil, bin, "-s", "unix:"+sock)
	if !c.waitDial("unix", sock) {
		t.Fatalf("fcgiwrap did not listen on %s:\n%s", sock, c.log)
	}
	return sock
}

// fastCGIParams is the standard FastCGI parameters file of nginx packages.
const fastCGIParams = "/etc/nginx/fastcgi_params"

// needFastCGIParams skips the test when nginx's fastcgi_params file is not
// where the Debian and upstream packages put it.
func needFastCGIParams(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(fastCGIParams); err != nil {
		t.Skipf("no %s (%v); install nginx from a package (Debian: apt-get install -y nginx-light)", fastCGIParams, err)
	}
}

// fastCGILocation is an nginx location that passes the requests under
// prefix/ to the FastCGI server at pass ("127.0.0.1:PORT" or "unix:PATH"),
// with Debian's standard parameters.
func fastCGILocation(prefix, pass string) string {
	return "    location " + prefix + "/ {\n" +
		"      include " + fastCGIParams + ";\n" +
		"      fastcgi_pass " + pass + ";\n" +
		"    }\n"
}

// proxyLocation is an nginx location that proxies the requests under
// prefix/ to the HTTP server at addr, reporting the client as docs/http.md
// recommends.
func proxyLocation(prefix, addr string) string {
	return "    location " + prefix + "/ {\n" +
		"      proxy_pass http://" + addr + ";\n" +
		"      proxy_http_version 1.1;\n" +
		"      proxy_set_header Host $http_host;\n" +
		"      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n" +
		"      proxy_set_header X-Forwarded-Proto $scheme;\n" +
		"      proxy_set_header X-Forwarded-Host $host:$server_port;\n" +
		"    }\n"
}

var (
	certOnce sync.Once
	certPEM  []byte
	keyPEM   []byte
	certPool *x509.CertPool
	certErr  error
)

// testCert makes, once per run, a self-signed certificate for 127.0.0.1
// and localhost.
func testCert(t *testing.T) {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "lsgi test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:              []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			certErr = err
			return
		}
		certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		certPool = x509.NewCertPool()
		certPool.AppendCertsFromPEM(certPEM)
	})
	if certErr != nil {
		t.Fatalf("make a test certificate: %v", certErr)
	}
}

// testCertFiles writes the test certificate and key into the test's
// temporary folder and returns their paths.
func testCertFiles(t *testing.T) (cert, key string) {
	t.Helper()
	testCert(t)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// testClient returns an HTTP client that follows no redirects, does not
// ask for compression, trusts the test certificate and, when from is not
// "", connects from that local address (127.0.0.2, say, so that a proxy
// on 127.0.0.1 reports a client address of its own).
func testClient(t *testing.T, from string) *http.Client {
	t.Helper()
	testCert(t)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
		probe, err := dialer.DialContext(context.Background(), "tcp", "127.0.0.1:1")
		if err == nil {
			probe.Close()
		} else if strings.Contains(err.Error(), "assign requested address") {
			t.Skipf("cannot connect from %s on this machine: %v", from, err)
		}
	}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		DisableCompression:    true,
		TLSClientConfig:       &tls.Config{RootCAs: certPool},
		ResponseHeaderTimeout: 20 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
