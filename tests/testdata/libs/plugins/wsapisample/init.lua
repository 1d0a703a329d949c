-- WSAPI's sample app, hello.lua (copied here from the lua-wsapi-doc package
-- by tests/libs_test.go), mounted with one line.
return require("lsgi.wsapi").adapt("hello")
