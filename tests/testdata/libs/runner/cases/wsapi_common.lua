-- wsapi.common: the helpers WSAPI's connectors share. Loading it needs
-- io, os, debug, lfs and coxpcall.
local common = require "wsapi.common"

print(common.status_codes[200], common.status_codes[404], common.status_codes[503])
print(common.splitpath("/srv/app/hello.lua"))
print(common.splitext("hello.lua"), common.splitext("noext"))
print(common.normalize_app(function() return "f" end)(), type(common.normalize_app({ run = print })))
local env = common.wsapi_env({
  env = { CONTENT_LENGTH = "5", PATH_INFO = "" },
  input = { read = function(self, n) return ("abcdefgh"):sub(1, n) end },
  error = {},
})
print(env.PATH_INFO, env.UNDEFINED == "", env.input.length, env.input:read())
print(#common.error_html("boom") > 0, common.status_404_html("missing"):match("<p>(.-)</p>"))

local sent = {}
local out = { write = function(_, s) sent[#sent + 1] = s end }
common.send_output(out, 200, { ["Content-Type"] = "text/plain", ["Set-Cookie"] = { "a=1", "b=2" } },
  coroutine.wrap(function() coroutine.yield("body") end))
table.sort(sent)
print(table.concat(sent, "|"))

local ok, status, headers, body = common.run_app(function(e) return 200, { ["X"] = e.FOO }, function() end end, { FOO = "bar" })
print(ok, status, headers.X, type(body))
local failed, msg = common.run_app(function() error("app broke", 0) end, {})
print(failed, msg:match("^app broke") ~= nil)
