package environ_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/lsgi/lsgi/environ"
)

func ExampleBuild() {
	r := httptest.NewRequest("GET", "/app/hello%20world?lang=en", nil)
	r.Header.Set("Accept", "text/plain")
	r.Header.Add("Cookie", "a=1")
	r.Header.Add("Cookie", "b=2")
	r.Header.Set("X_Auth", "admin") // dropped: '_' in the name

	gw := &environ.Gateway{ServerSoftware: "lsgi/0.1.0", ServerName: "example.org", ServerPort: "8080"}
	req := environ.RequestFromHTTP(r) // or filled by any other transport
	vars, err := environ.Build(nil, &req, "/app", gw)
	if err != nil {
		fmt.Println(err)
		return
	}
	slices.SortFunc(vars, func(a, b environ.Var) int { return strings.Compare(a.Name, b.Name) })
	for _, v := range vars {
		fmt.Printf("%s=%q\n", v.Name, v.Value)
	}
	fmt.Println("Check:", environ.Check(vars))

	req = environ.RequestFromHTTP(httptest.NewRequest("GET", "/application", nil))
	_, err = environ.Build(nil, &req, "/app", gw)
	fmt.Println(err)
	// Output:
	// GATEWAY_INTERFACE="CGI/1.1"
	// HTTP_ACCEPT="text/plain"
	// HTTP_COOKIE="a=1; b=2"
	// HTTP_HOST="example.com"
	// PATH_INFO="/hello world"
	// QUERY_STRING="lang=en"
	// REMOTE_ADDR="192.0.2.1"
	// REMOTE_PORT="1234"
	// REQUEST_METHOD="GET"
	// REQUEST_URI="/app/hello%20world?lang=en"
	// SCRIPT_NAME="/app"
	// SERVER_NAME="example.org"
	// SERVER_PORT="8080"
	// SERVER_PROTOCOL="HTTP/1.1"
	// SERVER_SOFTWARE="lsgi/0.1.0"
	// lsgi.url_scheme="http"
	// Check: <nil>
	// environ: request path is not under the mount prefix: path "/application", mount "/app"
}
