-- site/init.lua: templates, static files and gzip from a folder plugin.
-- Served at /site.
--   /site/hello?name=...   templates/page.html with a hostile-looking name
--   /site/missing          a template that does not exist (500, logged)
--   /site/layout           templates/layout.html filled by templates/child.html
--   /site/big              a text page large enough to be compressed
--   /site/small            a text page too small to be compressed
--   /site/static/...       files from static/
local Router = require "lsgi.router"
local Request = require "lsgi.request"
local Response = require "lsgi.response"
local template = require "lsgi.template"
local errors = require "lsgi.middleware.errors"
local static = require "lsgi.middleware.static"
local gzip = require "lsgi.middleware.gzip"

local r = Router()

r:get("/hello", function(environ, start_response)
  local req = Request(environ)
  local page = template.render("templates/page.html", {
    name = req.args.name or "nobody",
    items = req.args_all.item or {},
  })
  return Response.html(page)(environ, start_response)
end)

r:get("/missing", function(environ, start_response)
  return Response.html(template.render("templates/nope.html", {}))(environ, start_response)
end)

r:get("/exists", function(environ, start_response)
  local answer = tostring(template.exists("templates/page.html")) .. " " .. tostring(template.exists("templates/nope.html"))
  return Response.text(answer)(environ, start_response)
end)

r:get("/layout", function(environ, start_response)
  local page = template.render({ "templates/layout.html", "templates/child.html" }, { title = "T&C" })
  return Response.html(page)(environ, start_response)
end)

r:get("/big", function(environ, start_response)
  local lines = {}
  for i = 1, 200 do lines[i] = "line " .. i .. ": the quick brown fox jumps over the lazy dog" end
  return Response.text(table.concat(lines, "\n") .. "\n")(environ, start_response)
end)

r:get("/small", function(environ, start_response)
  return Response.text("tiny")(environ, start_response)
end)

return errors(gzip(static(r, { max_age = 60 })), { dev = false })
