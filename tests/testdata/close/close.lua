-- Response objects whose close() logs "CLOSED id=<id>" through lsgi.errors.
-- PATH_INFO selects the case, QUERY_STRING carries id=<id>. /sync logs
-- "SYNC id=<id>": with --states 1 it runs only after the previous request
-- on this plugin has fully ended.
local Body = {}
Body.__index = Body

-- Each step returns the next chunk; the chunk "ERROR" raises instead.
Body.__call = function(self)
  self.i = self.i + 1
  local chunk = self.chunks[self.i]
  if chunk == "ERROR" then
    error("failure during iteration")
  end
  return chunk
end

function Body:close()
  self.log:write("CLOSED id=" .. self.id .. "\n")
end

local function body(environ, chunks)
  local id = environ.QUERY_STRING:match("id=(%w+)") or "none"
  return setmetatable({chunks = chunks, i = 0, id = id, log = environ["lsgi.errors"]}, Body)
end

local H = {"Content-Type", "text/plain"}

local cases = {
  ["/normal"] = function(environ, start_response)
    start_response("200 OK", {H})
    return body(environ, {"a", "b", "c"})
  end,
  ["/array"] = function(environ, start_response)
    start_response("200 OK", {H})
    local log = environ["lsgi.errors"]
    local id = environ.QUERY_STRING:match("id=(%w+)")
    return {"x", "y", close = function(self)
      log:write("CLOSED id=" .. id .. "\n")
    end}
  end,
  ["/error-first"] = function(environ, start_response)
    start_response("200 OK", {H})
    return body(environ, {"ERROR"})
  end,
  ["/error-mid"] = function(environ, start_response)
    start_response("200 OK", {H})
    return body(environ, {"partial", "ERROR"})
  end,
  ["/bad-chunk"] = function(environ, start_response)
    start_response("200 OK", {H})
    return body(environ, {{}})
  end,
  ["/no-start-response"] = function(environ, start_response)
    return body(environ, {"x"})
  end,
  ["/head"] = function(environ, start_response)
    start_response("200 OK", {H, {"Content-Length", "5"}})
    return body(environ, {"hel", "lo"})
  end,
  ["/no-content"] = function(environ, start_response)
    start_response("204 No Content", {H})
    return body(environ, {"x"})
  end,
  ["/cl-long"] = function(environ, start_response)
    start_response("200 OK", {H, {"Content-Length", "3"}})
    return body(environ, {"ab", "cd", "ef"})
  end,
  ["/cl-short"] = function(environ, start_response)
    start_response("200 OK", {H, {"Content-Length", "10"}})
    return body(environ, {"abc"})
  end,
  ["/close-raises"] = function(environ, start_response)
    start_response("200 OK", {H})
    local b = body(environ, {"a", "b", "c"})
    b.close = function(self)
      Body.close(self)
      error("close failed on purpose")
    end
    return b
  end,
  ["/sync"] = function(environ, start_response)
    local id = environ.QUERY_STRING:match("id=(%w+)") or "none"
    environ["lsgi.errors"]:write("SYNC id=" .. id .. "\n")
    start_response("200 OK", {H})
    return {"sync"}
  end,
}

return function(environ, start_response)
  local case = cases[environ.PATH_INFO]
  if not case then
    start_response("404 Not Found", {H})
    return {"no such case"}
  end
  return case(environ, start_response)
end
