-- Reads lsgi.input in various ways and reports what each call returned:
-- "[<string>]" for a string, "nil" for nil. PATH_INFO selects the case.
local function show(v)
  if v == nil then
    return "nil"
  end
  return "[" .. tostring(v) .. "]"
end

local LIMIT = 1000 -- bounds every loop, in case EOF never comes

local cases = {
  -- read() returns everything, then "" ; read(n) then returns nil.
  ["/all"] = function(input)
    local a = input:read()
    local b = input:read()
    local c = input:read(1)
    return show(a) .. show(b) .. show(c)
  end,
  -- read(3) until nil.
  ["/sized"] = function(input)
    local out = {}
    for _ = 1, LIMIT do
      local chunk = input:read(3)
      out[#out + 1] = show(chunk)
      if chunk == nil then
        break
      end
    end
    return table.concat(out)
  end,
  -- read(100) twice: the body, then nil.
  ["/past-end"] = function(input)
    return show(input:read(100)) .. show(input:read(100))
  end,
  -- readline() until nil.
  ["/readline"] = function(input)
    local out = {}
    for _ = 1, LIMIT do
      local line = input:readline()
      out[#out + 1] = show(line)
      if line == nil then
        break
      end
    end
    return table.concat(out)
  end,
  -- lines(): each line without a trailing "\n", so both conventions
  -- (with or without it) give the same answer.
  ["/lines"] = function(input)
    local out = {}
    local n = 0
    for line in input:lines() do
      n = n + 1
      if n > LIMIT then
        break
      end
      out[#out + 1] = "<" .. (line:gsub("\n$", "")) .. ">"
    end
    return table.concat(out)
  end,
  -- The length of read().
  ["/length"] = function(input)
    local body = input:read()
    return "len=" .. tostring(body and #body)
  end,
  -- Does not read at all.
  ["/ignore"] = function(input)
    return "ignored"
  end,
}

return function(environ, start_response)
  local case = cases[environ.PATH_INFO]
  local H = {{"Content-Type", "text/plain"}}
  if environ.PATH_INFO == "/meta" then
    local body = environ["lsgi.input"]:read()
    start_response("200 OK", H)
    return {"cl=" .. tostring(environ.CONTENT_LENGTH)
      .. ";terminated=" .. tostring(environ["lsgi.input_terminated"])
      .. ";body=" .. show(body)}
  end
  if not case then
    start_response("404 Not Found", H)
    return {"no such case"}
  end
  local result = case(environ["lsgi.input"])
  start_response("200 OK", H)
  return {result}
end
