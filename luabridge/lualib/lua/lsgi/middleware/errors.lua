-- lsgi.middleware.errors: catches the errors of the app it wraps and answers
-- with an error page instead of letting the host abort with its own 500.
--
-- API
--   local errors = require "lsgi.middleware.errors"
--   app = errors(app [, opts])          (also errors.wrap(app, opts))
--       opts.dev   true: for loopback clients (REMOTE_ADDR in 127.0.0.0/8
--                  or ::1), a 500 page shows the error, the app's frames
--                  and their source (the host's development page, JSON for
--                  clients that prefer it); false: never. Default: the
--                  host's --dev mode.
--       opts.log   false: do not log caught errors (default true)
--
-- How it works
--   * An error raised by app(environ, start_response), or while iterating
--     the app's body, is caught. The middleware then calls
--     start_response(status, headers, err) with the error as exc_info, as
--     PEP 3333 prescribes: if nothing was sent yet, that replaces whatever
--     the app had set; if the headers already went out, the host re-raises
--     the error and aborts the response (the client never sees a
--     complete-looking body).
--   * An HTTP error raised with lsgi.response.abort(status, message) (and
--     those lsgi.request raises: 400, 413, 415) gives a response with that
--     status and its message, and is not logged as an error.
--   * Any other error gives "500 Internal Server Error" with a fixed plain
--     text body; the error and its traceback go to the app's log. The dev
--     page is never shown to other clients, whatever opts.dev says.
--   * The app's body is closed exactly once, when the host closes ours.
--   * Errors caused by the request's deadline or by a client disconnect are
--     not caught: the host handles those.
local native = require "lsgi._native"
local body = require "lsgi.body"
local util = require "lsgi.util"
local Response = require "lsgi.response"
local type, tostring, setmetatable, ipairs = type, tostring, setmetatable, ipairs

local M = {}

local PLAIN_500 = "Internal Server Error\n"

-- respond calls start_response with exc_info and returns the chunk to send.
local function respond(opts, environ, start_response, err, trace)
  if Response.is_http_error(err) then
    local line = util.status_line(err.status)
    local text = (err.message or line:sub(5)) .. "\n"
    local headers = { { "Content-Type", "text/plain; charset=utf-8" }, { "Content-Length", tostring(#text) } }
    for _, h in ipairs(err.headers or {}) do headers[#headers + 1] = h end
    if opts.log then
      native.log("debug", "lsgi: HTTP error raised by the app", {
        status = line, message = err.message or "", path = (environ.SCRIPT_NAME or "") .. (environ.PATH_INFO or ""),
      })
    end
    start_response(line, headers, err)
    return text
  end
  if opts.log then
    native.log("error", "app error", {
      err = native.tostring(err),
      traceback = trace or "",
      method = environ.REQUEST_METHOD or "",
      path = (environ.SCRIPT_NAME or "") .. (environ.PATH_INFO or ""),
    })
  end
  local text, ctype = PLAIN_500, "text/plain; charset=utf-8"
  if opts.dev and util.is_loopback(environ.REMOTE_ADDR) then
    -- The host's development page: the app's frames with their source,
    -- JSON for clients that prefer it.
    text, ctype = native.dev_page(err, trace, environ)
  end
  start_response("500 Internal Server Error", {
    { "Content-Type", ctype },
    { "Content-Length", tostring(#text) },
  }, err)
  return text
end

function M.wrap(app, opts)
  opts = opts or {}
  local settings = { dev = opts.dev, log = opts.log ~= false }
  if settings.dev == nil then settings.dev = native.dev end
  return function(environ, start_response)
    local ok, result, trace = native.pcall(app, environ, start_response)
    if not ok then
      return { respond(settings, environ, start_response, result, trace) }
    end
    local kind, why = body.kind(result)
    if not kind then
      return { respond(settings, environ, start_response, "the app returned an invalid body: " .. why, "") }
    end
    local next_chunk = body.iter(result)
    -- Per-response state, shared with the closures below.
    local st = { done = false, closed = false }
    local wrapper = {}
    function wrapper.close()
      if st.closed then return end
      st.closed = true
      body.close(result)
    end
    return setmetatable(wrapper, {
      __call = function()
        if st.done then return nil end
        local ok2, chunk, trace2 = native.pcall(next_chunk)
        if ok2 then
          if chunk == nil then st.done = true end
          return chunk
        end
        st.done = true
        -- The error page is the last chunk. When the headers already went
        -- out, start_response raises the error again and the host aborts.
        return respond(settings, environ, start_response, chunk, trace2)
      end,
    })
  end
end

setmetatable(M, { __call = function(_, app, opts) return M.wrap(app, opts) end })

return M
