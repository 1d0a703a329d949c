-- lsgi.middleware.gzip: compresses the responses of the app it wraps with
-- gzip when the client accepts it.
--
-- API
--   local gzip = require "lsgi.middleware.gzip"
--   app = gzip(app [, opts])           (also gzip.wrap(app, opts))
--     opts.level     compression level 1 (fast) to 9 (small); default 6
--     opts.min_size  responses whose Content-Length is below this many
--                    bytes are left alone; default 256
--
-- A response is compressed when all of these hold:
--   * the client's Accept-Encoding allows gzip (q-values honoured);
--   * the status allows a body and is not 206 (no Content-Range);
--   * it has no Content-Encoding of its own and no Cache-Control:
--     no-transform;
--   * its Content-Type is compressible: text/*, application/json,
--     application/javascript, application/xml, image/svg+xml, or any type
--     ending in +json or +xml;
--   * its Content-Length, when known, is at least min_size.
-- Then Content-Encoding: gzip is set, Content-Length removed (the length
-- changes), a strong ETag made weak, and each chunk is compressed in Go and
-- flushed, so streaming responses keep streaming. "Vary: Accept-Encoding"
-- is added to every compressible response, compressed or not, so caches
-- keep the two versions apart. HEAD responses get the same headers as GET
-- and no body. exc_info is passed through and a repeated start_response
-- call starts the decision over; the app's write() output is compressed
-- too; the app's body is closed exactly once.
local native = require "lsgi._native"
local util = require "lsgi.util"
local body = require "lsgi.body"
local type, error, ipairs, setmetatable, tonumber = type, error, ipairs, setmetatable, tonumber
local lower, find, match, sub = string.lower, string.find, string.match, string.sub

local M = {}

local function compressible(ctype)
  if not ctype then return false end
  local t = lower(match(ctype, "^%s*([^;%s]*)") or "")
  return sub(t, 1, 5) == "text/" or t == "application/json" or t == "application/javascript"
    or t == "application/xml" or t == "image/svg+xml" or find(t, "%+json$") ~= nil
    or find(t, "%+xml$") ~= nil
end

local function header(headers, name)
  for _, pair in ipairs(headers) do
    if lower(pair[1]) == name then return pair[2] end
  end
  return nil
end

function M.wrap(app, opts)
  opts = opts or {}
  local level = opts.level or 6
  if type(level) ~= "number" or level < 1 or level > 9 or level % 1 ~= 0 then
    error("lsgi.middleware.gzip: level must be a whole number from 1 to 9", 2)
  end
  local min_size = opts.min_size or 256
  if type(min_size) ~= "number" or min_size < 0 then
    error("lsgi.middleware.gzip: min_size must be a number >= 0", 2)
  end

  return function(environ, start_response)
    local accepts = util.accepts_encoding(environ.HTTP_ACCEPT_ENCODING or "", "gzip")
    local is_head = environ.REQUEST_METHOD == "HEAD"
    -- Per-response state, shared with the closures below.
    local st = { stream = nil, done = false, closed = false }

    local function decide(status, headers)
      if st.stream then st.stream:close(); st.stream = nil end
      if type(status) ~= "string" or type(headers) ~= "table" then return headers end
      for _, pair in ipairs(headers) do
        if type(pair) ~= "table" or type(pair[1]) ~= "string" or type(pair[2]) ~= "string" then
          return headers -- malformed: pass it on for the server to report
        end
      end
      local code = sub(status, 1, 3)
      local ctype = header(headers, "content-type")
      if not compressible(ctype) or code == "204" or code == "304" or sub(code, 1, 1) == "1" then
        return headers
      end
      local out = {}
      local vary_done = false
      for _, pair in ipairs(headers) do
        local key = lower(pair[1])
        if key == "vary" then
          local v = pair[2]
          if not find(lower(v), "accept%-encoding") and v ~= "*" then v = v .. ", Accept-Encoding" end
          out[#out + 1] = { pair[1], v }
          vary_done = true
        else
          out[#out + 1] = { pair[1], pair[2] }
        end
      end
      if not vary_done then out[#out + 1] = { "Vary", "Accept-Encoding" } end
      if not accepts or code == "206" or header(headers, "content-range") then return out end
      local encoding = header(headers, "content-encoding")
      if encoding and lower(encoding) ~= "identity" then return out end
      local cache = header(headers, "cache-control")
      if cache and find(lower(cache), "no%-transform") then return out end
      local length = tonumber(header(headers, "content-length") or "")
      if length and length < min_size then return out end

      local final = {}
      for _, pair in ipairs(out) do
        local key = lower(pair[1])
        if key == "etag" then
          local v = pair[2]
          if sub(v, 1, 2) ~= "W/" then v = "W/" .. v end
          final[#final + 1] = { pair[1], v }
        elseif key ~= "content-length" and key ~= "content-encoding" then
          final[#final + 1] = pair
        end
      end
      final[#final + 1] = { "Content-Encoding", "gzip" }
      if not is_head then st.stream = native.gzip(level) end
      return final
    end

    local function gzip_start_response(status, headers, exc_info)
      local write = start_response(status, decide(status, headers), exc_info)
      return function(data)
        if st.stream and type(data) == "string" then
          return write(st.stream:write(data))
        end
        return write(data)
      end
    end

    local result = app(environ, gzip_start_response)
    local next_chunk = body.iter(result)
    local wrapper = {}
    function wrapper.close()
      if st.closed then return end
      st.closed = true
      if st.stream then st.stream:close(); st.stream = nil end
      body.close(result)
    end
    return setmetatable(wrapper, {
      __call = function()
        if st.done then return nil end
        local chunk = next_chunk()
        if chunk == nil then
          st.done = true
          if st.stream then
            local tail = st.stream:finish()
            st.stream = nil
            return tail
          end
          return nil
        end
        if st.stream and type(chunk) == "string" then
          return st.stream:write(chunk) -- "" for an empty chunk
        end
        return chunk
      end,
    })
  end
end

setmetatable(M, { __call = function(_, app, opts) return M.wrap(app, opts) end })

return M
