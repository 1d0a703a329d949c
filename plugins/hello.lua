-- hello.lua: the starter app, mounted at /hello.
--
-- An LSGI app is a function called once per request with the request's
-- environ table and start_response; it returns the body. This one uses the
-- toolkit: lsgi.request reads the query string, lsgi.html escapes what goes
-- into the page, and lsgi.response answers (a Response is itself an app).
-- Run `lsgi serve --dev`, open the page, edit this file and save: the page
-- reloads by itself.
local Request  = require "lsgi.request"
local Response = require "lsgi.response"
local html     = require "lsgi.html"

local SHOWN = { "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "HTTP_USER_AGENT" }

return function(environ, start_response)
  local req = Request(environ)
  local name = req.args.name or "world"
  local rows = {}
  for _, key in ipairs(SHOWN) do
    rows[#rows + 1] = ("<tr><th>%s</th><td>%s</td></tr>"):format(key, html.escape(environ[key] or ""))
  end
  local page = table.concat({
    "<!doctype html>",
    "<html><head><meta charset=\"utf-8\"><title>Hello from LSGI</title></head><body>",
    "<h1>Hello, ", html.escape(name), "!</h1>",
    "<p>This page comes from <code>plugins/hello.lua</code>. Try <a href=\"?name=LSGI\">?name=LSGI</a>.</p>",
    "<table>", table.concat(rows), "</table>",
    "</body></html>\n",
  })
  return Response.html(page)(environ, start_response)
end
