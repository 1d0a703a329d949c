-- A WSAPI app mounted as an LSGI plugin. The wsapi folder (WSAPI's own
-- libraries) is copied beside it by tests/libs_test.go.
return require("lsgi.wsapi").adapt(require "app")
