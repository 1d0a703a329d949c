-- Tests of lsgi.config. The fixture's host opens LSGI_TEST_* and
-- LSGI_UNSET to the app; testdata/app/config.json holds its settings.
local check = require "check"
local config = require "lsgi.config"

local T = {}

function T.env()
  check.eq(config.env("LSGI_TEST_NAME"), "ann")
  check.eq(config.env("LSGI_TEST_EMPTY"), "")
  check.eq(config.env("LSGI_TEST_OTHER"), nil, "allowed by the prefix, unset")
  check.eq(config.env("LSGI_TEST_OTHER", "fallback"), "fallback")
  check.eq(config.env("LSGI_UNSET", 3), 3)
  check.raises(function() config.env("HOME") end, "the environment variable HOME is not open to apps: start the host with --env HOME")
  check.raises(function() config.env("LSGI_UNSET_NOT") end, "not open")
  check.raises(function() config.env() end)
end

function T.settings()
  check.eq(config.settings.title, "Test app")
  check.eq(config.settings.smtp.port, 2525)
  check.eq(config.get("smtp.host"), "mail.example")
  check.eq(config.get("smtp.port"), 2525)
  check.eq(config.get("smtp.missing", "dflt"), "dflt")
  check.eq(config.get("title.deeper", "dflt"), "dflt", "a path through a string")
  check.eq(config.get("nothing"), nil)
  check.eq(config.get("empty", "dflt"), "dflt", "JSON null gives the default")
  check.eq(config.get("features")[2], "b")
  check.eq(config.app, "app")
end

function T.secret()
  local a = config.secret("cookies")
  check.eq(#a, 32)
  check.eq(config.secret("cookies"), a, "the same purpose gives the same key")
  check.ne(config.secret("tokens"), a, "another purpose gives another key")
  check.raises(function() config.secret("") end, "purpose")
end

return T
