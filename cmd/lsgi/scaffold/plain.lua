-- __NAME__.lua: an LSGI app, served at /__NAME__ by `lsgi serve`.
--
-- An app is a function called once per request with the request's environ
-- and start_response; it returns the body. lsgi.request reads the request,
-- lsgi.response builds the answer (itself an app), lsgi.html escapes text.
-- Run `lsgi serve --dev`, open the page, edit this file and save: the page
-- reloads by itself. `lsgi check` runs every app once, for CI.
local Request  = require "lsgi.request"
local Response = require "lsgi.response"
local html     = require "lsgi.html"

return function(environ, start_response)
  local req = Request(environ)
  local name = req.args.name or "world"
  local page = table.concat({
    "<!doctype html>",
    "<html><head><meta charset=\"utf-8\"><title>__NAME__</title></head><body>",
    "<h1>Hello, ", html.escape(name), "!</h1>",
    "<p>This page comes from <code>__NAME__.lua</code>. Try <a href=\"?name=LSGI\">?name=LSGI</a>.</p>",
    "</body></html>\n",
  })
  return Response.html(page)(environ, start_response)
end
