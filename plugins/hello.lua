-- hello.lua: the starter app, mounted at /hello.
--
-- An LSGI app is a function called once per request with the request's
-- environ table and start_response. It sets the status and headers with
-- start_response and returns the body as a list of strings.
-- Edit this file, save it, and reload the page.

local function escape(s)
  return (s:gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;",
  }))
end

-- Parse "name=World&x=1" into a table (first value wins).
local function query(qs)
  local args = {}
  for key, value in qs:gmatch("([^&=]+)=?([^&]*)") do
    key = key:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    value = value:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    if args[key] == nil then args[key] = value end
  end
  return args
end

local SHOWN = { "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "HTTP_USER_AGENT" }

return function(environ, start_response)
  local name = query(environ.QUERY_STRING).name or "world"
  local rows = {}
  for _, key in ipairs(SHOWN) do
    rows[#rows + 1] = ("<tr><th>%s</th><td>%s</td></tr>"):format(key, escape(environ[key] or ""))
  end
  local page = table.concat({
    "<!doctype html>",
    "<html><head><meta charset=\"utf-8\"><title>Hello from LSGI</title></head><body>",
    ("<h1>Hello, %s!</h1>"):format(escape(name)),
    "<p>This page comes from <code>plugins/hello.lua</code>. Try <a href=\"?name=LSGI\">?name=LSGI</a>.</p>",
    "<table>", table.concat(rows), "</table>",
    "</body></html>\n",
  })
  start_response("200 OK", { { "Content-Type", "text/html; charset=utf-8" } })
  return { page }
end
