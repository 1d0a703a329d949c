// Package tests holds the end-to-end tests of lsgi. They build the real
// binary (cmd/lsgi), start it on 127.0.0.1 with the fixture plugins under
// testdata/, and check its behaviour over HTTP, using Go's HTTP client where
// it shows enough and a raw TCP connection where the framing matters.
//
// Each test starts its own server on a free port, with a private copy of its
// fixture folder, and stops it with SIGTERM when it ends. The server's log
// (stdout and stderr) is collected line by line; tests wait for log lines
// with a bound, never with a fixed sleep.
//
// The tests drive the binary through its command line, its log lines and
// HTTP. Only the conformance tests also import host, transport and
// lsgitest, to run the same apps in process beside the real transports, and
// through a transport of their own on the host's lower seam.
package tests
