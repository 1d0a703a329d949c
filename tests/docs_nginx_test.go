package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The nginx blocks of the docs are meant to be pasted: each must pass
// `nginx -t` where docs/http.md ("Pasting the nginx blocks") says it goes.

// nginxFence finds the nginx blocks of a Markdown page.
var nginxFence = regexp.MustCompile("(?s)```nginx\n(.*?)```")

// Where the docs' TLS blocks take their certificate, as docs/http.md says
// how to make one; the test puts a generated one in its place.
const (
	docsCert = "/etc/ssl/certs/lsgi-example.pem"
	docsKey  = "/etc/ssl/private/lsgi-example.key"
)

// nginxMain is the smallest main context a block can go in: the docs'
// server and upstream blocks go in its http block, a location block in a
// server block of its own. {{prefix}} holds nginx's own files.
const nginxMain = `pid {{prefix}}/nginx.pid;
error_log stderr;
events {}
http {
  client_body_temp_path {{prefix}}/client_body;
  fastcgi_temp_path {{prefix}}/fastcgi;
  proxy_temp_path {{prefix}}/proxy;
  uwsgi_temp_path {{prefix}}/uwsgi;
  scgi_temp_path {{prefix}}/scgi;
{{block}}
}
`

// wrapNginxBlock puts a docs block where it belongs in nginx.conf.
func wrapNginxBlock(block, prefix string) string {
	first := strings.Fields(block)[0]
	if first == "location" {
		block = "server {\n  listen 127.0.0.1:8080;\n" + block + "}\n"
	}
	return strings.NewReplacer("{{prefix}}", prefix, "{{block}}", block).Replace(nginxMain)
}

func TestDocsNginxBlocks(t *testing.T) {
	bin := lookTool(t, "nginx", "nginx-light")
	needFastCGIParams(t)
	cert, key := testCertFiles(t)
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "../README.md")
	blocks := 0
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range nginxFence.FindAllStringSubmatch(string(src), -1) {
			blocks++
			name := strings.TrimPrefix(page, "../") + "#" + string(rune('1'+i))
			t.Run(name, func(t *testing.T) {
				prefix := t.TempDir()
				block := strings.NewReplacer(docsCert, cert, docsKey, key).Replace(m[1])
				conf := filepath.Join(prefix, "nginx.conf")
				if err := os.WriteFile(conf, []byte(wrapNginxBlock(block, prefix)), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(bin, "-t", "-q", "-p", prefix, "-e", "stderr", "-c", conf).CombinedOutput()
				if err != nil {
					t.Errorf("nginx -t refuses the block of %s (%v):\n%s\nthe block:\n%s", name, err, out, m[1])
				}
			})
		}
	}
	if blocks < 5 {
		t.Errorf("found %d nginx blocks in the docs; expected the 5 or more they hold", blocks)
	}
}
