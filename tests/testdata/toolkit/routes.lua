-- routes.lua: lsgi.router over HTTP. Served at /routes.
local Router = require "lsgi.router"
local Request = require "lsgi.request"
local Response = require "lsgi.response"

local function where(environ)
  return "SCRIPT_NAME=" .. environ.SCRIPT_NAME .. " PATH_INFO=" .. environ.PATH_INFO
end

local api = Router()
api:get("/", function(environ, start_response)
  return Response.text("api root " .. where(environ))(environ, start_response)
end)
api:get("/items/:id", function(environ, start_response)
  local req = Request(environ)
  return Response.text("item " .. req.params.id .. " " .. where(environ))(environ, start_response)
end)

local r = Router()
r:get("/users/:id", function(environ, start_response)
  return Response.text("user " .. Request(environ).params.id)(environ, start_response)
end)
r:delete("/users/:id", function(environ, start_response)
  return Response.text("deleted " .. Request(environ).params.id)(environ, start_response)
end)
r:post("/users", function(environ, start_response)
  return Response.text("created", 201)(environ, start_response)
end)
r:get("/users/:id/posts/:post", function(environ, start_response)
  local p = Request(environ).params
  return Response.text("user " .. p.id .. " post " .. p.post)(environ, start_response)
end)
r:get("/files/*path", function(environ, start_response)
  return Response.text("path=" .. Request(environ).params.path)(environ, start_response)
end)
r:mount("/api/v1", api)
return r
