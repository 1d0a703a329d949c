-- lsgi.middleware.static: serves files from a folder inside the app's own
-- folder, and passes every other request to the app it wraps.
--
-- API
--   local static = require "lsgi.middleware.static"
--   app = static(app, opts)            (also static.wrap(app, opts))
--   app = static(nil, opts)            a plain file server (404 otherwise)
--     opts.prefix   URL path under which files are served (default
--                   "/static"; "" serves from the app's root)
--     opts.dir      folder inside the app's folder (default "static")
--     opts.index    file served for a directory URL ending in "/" (default
--                   "index.html"; false for none)
--     opts.max_age  adds Cache-Control: public, max-age=N
--
-- Behaviour
--   * GET and HEAD only; other methods pass through to the app.
--   * The path below the prefix must be a clean relative path: ".", ".."
--     and empty segments, backslashes, NUL bytes and hidden names (starting
--     with ".") are refused, also after one more round of percent-decoding
--     (so "%2e%2e" is refused too). Symbolic links are followed only while
--     they stay inside the served folder. A refused or missing file passes
--     through to the app (or gets 404); nothing outside the folder is ever
--     read.
--   * ETag (modification time and size, or a content hash when the file
--     system has no times) with If-None-Match, and Last-Modified with
--     If-Modified-Since, answer 304 Not Modified.
--   * A single byte range (Range: bytes=a-b, a-, -n) gets 206 with
--     Content-Range, honouring If-Range; a range past the end gets 416.
--     Several ranges are answered with the whole file.
--   * Content-Type comes from the file extension (mime.TypeByExtension),
--     with X-Content-Type-Options: nosniff.
--   * A directory URL without its trailing slash is redirected (301) to the
--     URL with one, when an index file is configured.
--   * Large files are streamed in 32 KiB chunks; the body's close() closes
--     the file.
local native = require "lsgi._native"
local util = require "lsgi.util"
local type, error, tostring, setmetatable = type, error, tostring, setmetatable
local sub = string.sub

local M = {}

local function plain(start_response, status, text, extra)
  local headers = { { "Content-Type", "text/plain; charset=utf-8" }, { "Content-Length", tostring(#text) } }
  if extra then headers[#headers + 1] = extra end
  start_response(status, headers)
  return { text }
end

function M.wrap(app, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("lsgi.middleware.static: options must be a table", 2) end
  local prefix = opts.prefix
  if prefix == nil then prefix = "/static" end
  if type(prefix) ~= "string" or (prefix ~= "" and sub(prefix, 1, 1) ~= "/") then
    error("lsgi.middleware.static: prefix must be \"\" or start with /", 2)
  end
  if sub(prefix, -1) == "/" then prefix = sub(prefix, 1, -2) end
  local dir = opts.dir
  if dir == nil then dir = "static" end
  if type(dir) ~= "string" then error("lsgi.middleware.static: dir must be a string", 2) end
  local server = native.static(dir, { index = opts.index, max_age = opts.max_age })

  return function(environ, start_response)
    local method = environ.REQUEST_METHOD
    local path = environ.PATH_INFO or ""
    if method == "GET" or method == "HEAD" then
      local rel
      if prefix == "" then
        rel = path
      elseif path == prefix or sub(path, 1, #prefix + 1) == prefix .. "/" then
        rel = sub(path, #prefix + 1)
      end
      if rel then
        local status, headers, body = server:serve(rel, method,
          environ.HTTP_IF_NONE_MATCH, environ.HTTP_IF_MODIFIED_SINCE,
          environ.HTTP_RANGE, environ.HTTP_IF_RANGE)
        if status then
          start_response(status, headers)
          return body
        end
        if headers == "directory" then
          local location = util.quote((environ.SCRIPT_NAME or "") .. path .. "/", "/")
          return plain(start_response, "301 Moved Permanently", "Moved Permanently\n", { "Location", location })
        end
      end
    end
    if app then return app(environ, start_response) end
    return plain(start_response, "404 Not Found", "Not Found\n")
  end
end

setmetatable(M, { __call = function(_, app, opts) return M.wrap(app, opts) end })

return M
