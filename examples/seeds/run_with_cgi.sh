#!/bin/sh
# run_with_cgi.sh: PEP 3333's run_with_cgi(simple_app), the LSGI way.
#
# The seed article saves run_with_cgi() in gateway.py and runs
# `python gateway.py`: a CGI gateway around the app, which a web server
# would start once per request. lsgi has that gateway built in as
# `lsgi cgi FILE`, so the whole of gateway.py becomes one line:
#
#   exec lsgi cgi /path/to/simple_app.lua
#
# Install this file as a CGI script (see docs/cgi.md) and the web server
# sets REQUEST_METHOD, SCRIPT_NAME, PATH_INFO and the rest. Run from a
# shell, it fills in the few variables a request needs, so you can see the
# raw CGI response, as in the article (the headers may come in another
# order):
#
#   $ sh examples/seeds/run_with_cgi.sh
#   Status: 200 OK
#   Content-Length: 13
#   Content-Type: text/plain
#
#   Hello world!
#
# Set LSGI to the lsgi binary if it is not on PATH.
: "${REQUEST_METHOD:=GET}" "${SCRIPT_NAME:=/simple_app}" "${SERVER_PROTOCOL:=HTTP/1.1}"
: "${SERVER_NAME:=localhost}" "${SERVER_PORT:=80}"
export REQUEST_METHOD SCRIPT_NAME SERVER_PROTOCOL SERVER_NAME SERVER_PORT
exec "${LSGI:-lsgi}" cgi "$(dirname "$0")/simple_app.lua"
