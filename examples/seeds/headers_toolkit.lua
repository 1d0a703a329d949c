-- headers_toolkit.lua: the tutorials' header-adding Middleware
-- (middleware.lua, which wraps start_response by hand) built with
-- lsgi.middleware.headers instead. Served at /headers_toolkit:
--
--   GET /headers_toolkit   "Check the headers!" with X-A-SIMPLE-TOKEN: 1234567890
--
-- headers(app, spec) returns an app that passes every request to app and
-- edits the headers app gives start_response. A spec that is an array of
-- {name, value} pairs sets each header, replacing one of the same name;
-- {set = ..., add = ..., default = ..., remove = ...} offers the other
-- edits (docs/modules/middleware-headers.md). The middleware copies the
-- header list instead of changing the app's own, passes exc_info on, and
-- hands the app's body back untouched, so streaming and close() still work.
local headers = require "lsgi.middleware.headers"

local function myapp(environ, start_response)
  local response_headers = {{"content-type", "text/plain"}}
  start_response("200 OK", response_headers)
  return {"Check the headers!"}
end

return headers(myapp, {
  set = {{"X-A-SIMPLE-TOKEN", "1234567890"}},
  default = {{"Cache-Control", "no-store"}},
})
