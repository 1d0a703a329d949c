-- site: sessions, CSRF and settings over HTTP, for the end-to-end tests.
--   /login?user=     regenerates the session and logs the user in
--   /whoami          the user, or anonymous
--   /visit           counts the session's visits
--   /logout          destroys the session
--   /form            an HTML form with the CSRF token
--   POST /post       a CSRF-protected form post: answers its note field
--   /config          LSGI_E2E_GREETING and the title from config.json
--   /config/home     reads HOME, which the operator did not allow (500)
local session = require "lsgi.session"
local config = require "lsgi.config"
local Request = require "lsgi.request"

local function text(start_response, s)
  start_response("200 OK", { { "Content-Type", "text/plain; charset=utf-8" } })
  return { s }
end

local function routes(environ, start_response)
  local s = session.get(environ)
  local path = environ.PATH_INFO
  if path == "/login" then
    s:regenerate()
    s.data.user = Request(environ).args.user or "ann"
    return text(start_response, "welcome " .. s.data.user)
  elseif path == "/whoami" then
    return text(start_response, s.data.user or "anonymous")
  elseif path == "/visit" then
    s.data.visits = (s.data.visits or 0) + 1
    return text(start_response, tostring(s.data.visits))
  elseif path == "/logout" then
    s:destroy()
    return text(start_response, "bye")
  elseif path == "/form" then
    -- The token is made before start_response, which sends the cookie.
    local token = session.csrf_token(environ)
    start_response("200 OK", { { "Content-Type", "text/html; charset=utf-8" } })
    return { '<form method="post" action="post"><input type="hidden" name="csrf_token" value="' ..
      token .. '"><input name="note"></form>' }
  elseif path == "/post" then
    return text(start_response, "note: " .. tostring(Request(environ).form.note))
  elseif path == "/config" then
    return text(start_response, config.env("LSGI_E2E_GREETING", "none") .. " | " .. config.get("title", "untitled"))
  elseif path == "/config/home" then
    return text(start_response, config.env("HOME"))
  end
  start_response("404 Not Found", { { "Content-Type", "text/plain" } })
  return { "no such route\n" }
end

return session(session.csrf_protect(routes))
