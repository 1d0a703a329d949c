// Command lsgi serves Lua web apps written to LSGI, the Lua counterpart of
// Python's WSGI.
//
//	lsgi serve [flags] [DIR]   serve the apps in DIR (default ./plugins) over HTTP or FastCGI
//	lsgi cgi FILE              run one request as a CGI program
//	lsgi call FILE [PATH]      run an app once in process and print its response
//	lsgi new NAME              write a new app into ./plugins
//	lsgi check [DIR]           load every app and run it once: for CI
//	lsgi version               print the version
//
// Run "lsgi serve -h" for the flags.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/lsgi/lsgi/host"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: lsgi <command> [arguments]

commands:
  serve [flags] [DIR]   serve the Lua apps in DIR (default ./plugins) over HTTP or FastCGI
  cgi FILE              run one request with the app in FILE, as a CGI program
  call [flags] FILE [PATH]
                        run the app in FILE once, in process, and print its response
  new [--router] NAME   write a new app, served at /NAME, into ./plugins (--dir DIR)
  check [flags] [DIR]   load every app in DIR as serve would, run each once on GET /
                        through lsgi.validator, and exit 1 if any failed (for CI)
  version               print the version

Run "lsgi <command> -h" for the flags of a command.
`

// run is the whole program, minus os.Exit, so that tests can call it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "cgi":
		return runCGI(args[1:], stdout, stderr)
	case "call":
		return call(args[1:], stdout, stderr)
	case "new":
		return newApp(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "lsgi %s\n", host.Version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "lsgi: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
