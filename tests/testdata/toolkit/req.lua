-- req.lua: lsgi.request and lsgi.response over HTTP. Served at /req.
--   /req/echo     the request as lsgi.request sees it, as JSON
--   /req/cookies  sets two cookies and deletes a third
--   /req/json     a JSON body decoded and described
local Request = require "lsgi.request"
local Response = require "lsgi.response"
local errors = require "lsgi.middleware.errors"
local json = require "json"

-- hex returns s as hex digits, so that any bytes fit in JSON.
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function echo(environ, start_response)
  local req = Request(environ)
  local files = json.object()
  for name, all in pairs(req.files_all) do
    local list = {}
    for i, f in ipairs(all) do
      list[i] = { name = f.name, filename = f.filename, size = f.size,
        content_type = f.content_type, hex = hex(f.data) }
    end
    files[name] = list
  end
  return Response.json({
    method = req.method,
    script_name = req.script_name,
    path_info = req.path_info,
    query_string = req.query_string,
    url = req.url,
    base_url = req.base_url,
    args = json.object(req.args),
    args_all = json.object(req.args_all),
    cookies = json.object(req.cookies),
    header_dash = req.headers["X-Test-Header"] or json.null,
    header_underscore = req.headers.x_test_header or json.null,
    form = json.object(req.form),
    form_all = json.object(req.form_all),
    files = files,
  })(environ, start_response)
end

local function cookies(environ, start_response)
  local resp = Response.text("cookies set\n")
  resp:set_cookie("session", "abc123", { path = "/", http_only = true, same_site = "Lax", max_age = 3600 })
  resp:set_cookie("theme", "dark")
  resp:delete_cookie("old", { path = "/" })
  return resp(environ, start_response)
end

local function decode(environ, start_response)
  local v = Request(environ).json
  return Response.json({ count = #v.items, second_is_null = v.items[2] == json.null, name = v.name })(environ, start_response)
end

local routes = { ["/echo"] = echo, ["/cookies"] = cookies, ["/json"] = decode }

return errors(function(environ, start_response)
  local app = routes[environ.PATH_INFO]
  if not app then Response.abort(404, "no such page") end
  return app(environ, start_response)
end, { dev = false })
