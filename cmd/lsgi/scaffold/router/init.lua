-- __NAME__/init.lua: a toolkit app, served at /__NAME__ by `lsgi serve`.
--
-- lsgi.router picks a handler by method and path; lsgi.template renders
-- templates/ with Go's html/template; lsgi.middleware.static serves
-- static/ at /__NAME__/static/; lsgi.middleware.errors answers errors.
-- Run `lsgi serve --dev` and edit any file: a change to a template or a
-- static file shows at once, with no reload of this code.
local Router   = require "lsgi.router"
local Request  = require "lsgi.request"
local Response = require "lsgi.response"
local template = require "lsgi.template"
local errors   = require "lsgi.middleware.errors"
local static   = require "lsgi.middleware.static"

local app = Router()

app:get("/", function(environ, start_response)
  local req = Request(environ)
  local page = template.render("templates/index.html", {
    name = req.args.name or "world",
    base = req.script_name,
  })
  return Response.html(page)(environ, start_response)
end)

app:get("/hello/:name", function(environ, start_response)
  return Response.json({ hello = Request(environ).params.name })(environ, start_response)
end)

return errors(static(app))
