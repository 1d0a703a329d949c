-- /page?name=World: a 1 KB page rendered by lsgi.template (Go's
-- html/template, contextual escaping) from page.html in this folder.
local template = require "lsgi.template"
local parse_qs = require("lsgi.util").parse_qs

return function(environ, start_response)
  local args = parse_qs(environ.QUERY_STRING)
  local page = template.render("page.html", { name = args.name or "world" })
  start_response("200 OK", { { "Content-Type", "text/html; charset=utf-8" } })
  return { page }
end
