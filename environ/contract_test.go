// This file holds Check, which the tests use to hold every environ Build
// makes to the LSGI contract, after wsgiref's validate.py check_environ.

package environ

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lsgi/lsgi/httpsyntax"
)

// required are the variables every environ has, in the order Check reports
// them missing.
var required = [...]string{
	"REQUEST_METHOD",
	"SCRIPT_NAME",
	"PATH_INFO",
	"QUERY_STRING",
	"SERVER_NAME",
	"SERVER_PORT",
	"SERVER_PROTOCOL",
	schemeKey,
}

// nonEmpty are variables that must not be "" when they are present: an
// absent fact is left out, not set to "" (PEP 3333; docs/SPEC.md 9.1).
var nonEmpty = [...]string{
	"REQUEST_METHOD",
	"SERVER_NAME",
	"SERVER_PORT",
	"SERVER_SOFTWARE",
	"GATEWAY_INTERFACE",
	"REQUEST_URI",
	"REMOTE_ADDR",
	"REMOTE_PORT",
	"HTTPS",
}

// forbidden are names that must never appear, each with its reason.
var forbidden = [...]struct{ name, reason string }{
	{"HTTP_CONTENT_TYPE", "Content-Type is CONTENT_TYPE only"},
	{"HTTP_CONTENT_LENGTH", "Content-Length is CONTENT_LENGTH only"},
	{"HTTP_PROXY", "the Proxy header is dropped (httpoxy)"},
}

// Check reports the first way vars break the LSGI environ contract, or nil.
// It checks, in this order:
//
//   - every name is non-empty and appears once;
//   - REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING, SERVER_NAME,
//     SERVER_PORT, SERVER_PROTOCOL and lsgi.url_scheme are present;
//   - REQUEST_METHOD, SERVER_NAME, SERVER_PORT, and SERVER_SOFTWARE,
//     GATEWAY_INTERFACE, REQUEST_URI, REMOTE_ADDR, REMOTE_PORT and HTTPS
//     when present, are not "";
//   - SERVER_PORT, REMOTE_PORT and CONTENT_LENGTH, when present, are
//     decimal digits only (CONTENT_LENGTH may be "0");
//   - lsgi.url_scheme is "http" or "https"; HTTPS, when present, is "on"
//     and lsgi.url_scheme is then "https";
//   - SCRIPT_NAME is "" or starts with '/' and does not end with '/', so it
//     is never "/";
//   - PATH_INFO is "" or starts with '/';
//   - SCRIPT_NAME and PATH_INFO are not both "": together they are the
//     decoded request path, which is at least "/". PATH_INFO is "" only
//     when the URL is a non-root mount point without a trailing '/'
//     (mount "/app", request "/app"); at the root, "GET /" gives
//     SCRIPT_NAME "" and PATH_INFO "/";
//   - HTTP_CONTENT_TYPE, HTTP_CONTENT_LENGTH and HTTP_PROXY are absent;
//   - every HTTP_ name is in upper case with '_' for '-'.
//
// Every error message starts with "environ: " and names the variable.
func Check(vars Vars) error {
	seen := make(map[string]string, len(vars))
	for _, v := range vars {
		if v.Name == "" {
			return errors.New("environ: variable with an empty name")
		}
		if _, dup := seen[v.Name]; dup {
			return fmt.Errorf("environ: %s appears more than once", v.Name)
		}
		seen[v.Name] = v.Value
	}

	for _, name := range required {
		if _, ok := seen[name]; !ok {
			return fmt.Errorf("environ: %s is missing", name)
		}
	}
	for _, name := range nonEmpty {
		if v, ok := seen[name]; ok && v == "" {
			return fmt.Errorf("environ: %s is empty; leave it out instead", name)
		}
	}
	for _, name := range [...]string{"SERVER_PORT", "REMOTE_PORT", "CONTENT_LENGTH"} {
		if v, ok := seen[name]; ok && !httpsyntax.IsDecimal(v) {
			return fmt.Errorf("environ: %s is not a decimal number: %q", name, v)
		}
	}

	scheme := seen[schemeKey]
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("environ: %s is %q, not \"http\" or \"https\"", schemeKey, scheme)
	}
	if v, ok := seen["HTTPS"]; ok {
		if v != "on" {
			return fmt.Errorf("environ: HTTPS is %q; it is \"on\" or absent", v)
		}
		if scheme != "https" {
			return fmt.Errorf("environ: HTTPS is \"on\" but %s is %q", schemeKey, scheme)
		}
	}

	script, path := seen["SCRIPT_NAME"], seen["PATH_INFO"]
	if script == "/" {
		return errors.New(`environ: SCRIPT_NAME is "/"; the root mount is ""`)
	}
	if script != "" && (script[0] != '/' || script[len(script)-1] == '/') {
		return fmt.Errorf("environ: SCRIPT_NAME %q must start with '/' and not end with '/'", script)
	}
	if path != "" && path[0] != '/' {
		return fmt.Errorf("environ: PATH_INFO %q must be \"\" or start with '/'", path)
	}
	if script == "" && path == "" {
		return errors.New(`environ: PATH_INFO is "" at the root mount; the request path is at least "/"`)
	}

	for _, f := range forbidden {
		if _, ok := seen[f.name]; ok {
			return fmt.Errorf("environ: %s is present; %s", f.name, f.reason)
		}
	}
	for _, v := range vars {
		if strings.HasPrefix(v.Name, "HTTP_") && strings.ContainsFunc(v.Name, func(r rune) bool {
			return r == '-' || 'a' <= r && r <= 'z'
		}) {
			return fmt.Errorf("environ: %s is not upper case with '_' for '-'", v.Name)
		}
	}
	return nil
}
