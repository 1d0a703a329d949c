-- misuse.lua: apps that break the LSGI contract in one way each, for
-- lsgi.validator under `lsgi serve --dev`. Served at /misuse.
local apps = {}

apps["/ok"] = function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return { "fine" }
end

apps["/string"] = function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  return "a plain string"
end

apps["/no-start-response"] = function(environ, start_response)
  return { "body without start_response" }
end

apps["/no-start-response-empty"] = function(environ, start_response)
  return {}
end

apps["/bad-header"] = function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" }, { "X-Bad Name", "1" } })
  return { "bad header" }
end

apps["/bad-header-value"] = function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" }, { "X-Split", "a\r\nInjected: yes" } })
  return { "bad header value" }
end

apps["/chunk"] = function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  local i = 0
  return function()
    i = i + 1
    if i == 1 then return "first " end
    if i == 2 then return 42 end
  end
end

apps["/twice"] = function(environ, start_response)
  start_response("200 OK", { { "Content-Type", "text/plain" } })
  start_response("404 Not Found", { { "Content-Type", "text/plain" } })
  return { "twice" }
end

return function(environ, start_response)
  return apps[environ.PATH_INFO](environ, start_response)
end
