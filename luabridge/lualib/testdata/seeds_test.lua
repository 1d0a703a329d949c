-- The seeds' WSGI examples translated to Lua, run through the toolkit: the
-- forms users write first (docs/modules show the same code).
local check = require "check"
local fake = require "fake"
local validator = require "lsgi.validator"
local Response = require "lsgi.response"
local Request = require "lsgi.request"
local Router = require "lsgi.router"
local errors = require "lsgi.middleware.errors"
local static = require "lsgi.middleware.static"
local template = require "lsgi.template"

local T = {}

-- simple_app
local function simple_app(environ, start_response)
  local status = "200 OK"
  local response_headers = { { "Content-type", "text/plain" } }
  start_response(status, response_headers)
  return { "Hello world! -by the5fire \n" }
end

-- AppClass: a callable instance.
local AppClass = {}
AppClass.__index = AppClass
AppClass.status = "200 OK"
AppClass.response_headers = { { "Content-type", "text/plain" } }
function AppClass.__call(self, environ, start_response)
  start_response(self.status, self.response_headers)
  return { "Hello AppClass.__call\n" }
end
local application = setmetatable({}, AppClass)

-- AppClassIter: the class itself is the app; calling it builds the body.
local AppClassIter = { status = "200 OK", response_headers = { { "Content-type", "text/plain" } } }
AppClassIter.__index = AppClassIter
function AppClassIter.new(environ, start_response)
  return setmetatable({ environ = environ, start_response = start_response, step = 0 }, AppClassIter)
end
function AppClassIter.__call(self)
  self.step = self.step + 1
  if self.step == 1 then
    self.start_response(self.status, self.response_headers)
    return "Hello AppClassIter\n"
  end
  return nil
end
function AppClassIter:close() self.environ["test.closed"] = (self.environ["test.closed"] or 0) + 1 end
setmetatable(AppClassIter, { __call = function(_, environ, start_response) return AppClassIter.new(environ, start_response) end })

function T.test_three_app_forms_pass_the_validator()
  check.eq(fake.request(validator(simple_app)).body, "Hello world! -by the5fire \n")
  check.eq(fake.request(validator(application)).body, "Hello AppClass.__call\n")
  local env = fake.environ {}
  local res = fake.request(validator(AppClassIter), env)
  check.eq(res.error, nil)
  check.eq(res.body, "Hello AppClassIter\n")
  check.eq(env["test.closed"], 1, "the body's close runs once")
end

function T.test_response_object_seed()
  -- def simple_app(environ, start_response):
  --     response = Response('Hello World', start_response=start_response)
  --     response.set_header('Content-Type', 'text/plain')
  --     return response
  local app = function(environ, start_response)
    local response = Response("Hello World")
    response:set_header("Content-Type", "text/plain")
    return response(environ, start_response)
  end
  local res = fake.request(validator(app))
  check.eq(res.body, "Hello World")
  check.eq(res:header("content-type"), "text/plain")
end

-- A small realistic app: a JSON API with a form, an upload and static files.
local function notes_app()
  local notes = {}
  local r = Router()
  r:get("/", function(environ, start_response)
    local html = template.render("templates/page.html", { name = "notes", items = {}, count = #notes })
    return Response.html(html)(environ, start_response)
  end)
  r:get("/api/notes", function(environ, start_response)
    return Response.json({ notes = notes })(environ, start_response)
  end)
  r:post("/api/notes", function(environ, start_response)
    local req = Request(environ)
    local text = req.mimetype == "application/json" and req.json.text or req.form.text
    if type(text) ~= "string" or text == "" then Response.abort(400, "text is required") end
    local note = { id = #notes + 1, text = text }
    local file = req.files.attachment
    if file then note.attachment = { name = file.filename, size = file.size } end
    notes[#notes + 1] = note
    local resp = Response.json(note, 201)
    resp:set_header("Location", req.base_url .. "api/notes/" .. note.id)
    return resp(environ, start_response)
  end)
  r:get("/api/notes/:id", function(environ, start_response)
    local note = notes[tonumber(Request(environ).params.id)]
    if not note then Response.abort(404, "no such note") end
    return Response.json(note)(environ, start_response)
  end)
  return validator(errors(static(r), { dev = false }))
end

function T.test_realistic_app()
  local json = require "json"
  local app = notes_app()
  local created = fake.request(app, { method = "POST", path = "/api/notes",
    content_type = "application/x-www-form-urlencoded", body = "text=first+note" })
  check.eq(created.status, "201 Created")
  check.eq(created:header("location"), "http://localhost:8000/api/notes/1")
  local body = "--B\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nwith file\r\n" ..
    "--B\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile!\r\n--B--\r\n"
  local up = fake.request(app, { method = "POST", path = "/api/notes", content_type = "multipart/form-data; boundary=B", body = body })
  check.eq(up.status, "201 Created")
  check.eq(json.decode(up.body).attachment.size, 5)
  local j = fake.request(app, { method = "POST", path = "/api/notes", content_type = "application/json", body = '{"text":"json"}' })
  check.eq(j.status, "201 Created")
  local list = json.decode(fake.request(app, { path = "/api/notes" }).body)
  check.eq(#list.notes, 3)
  check.eq(fake.request(app, { path = "/api/notes/2" }).status, "200 OK")
  check.eq(fake.request(app, { path = "/api/notes/9" }).status, "404 Not Found")
  check.eq(fake.request(app, { method = "POST", path = "/api/notes", content_type = "application/json", body = "{}" }).status, "400 Bad Request")
  check.eq(fake.request(app, { method = "DELETE", path = "/api/notes" }).status, "405 Method Not Allowed")
  check.eq(fake.request(app, { path = "/static/site.css" }).status, "200 OK")
  check.contains(fake.request(app, { path = "/" }).body, "Hello, notes!")
end

return T
