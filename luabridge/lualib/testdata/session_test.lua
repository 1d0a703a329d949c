-- Tests of lsgi.session: a small app that logs in, counts visits, logs out
-- and takes a CSRF-protected form, driven through the fake server with the
-- cookies a browser would send back.
local check = require "check"
local fake = require "fake"
local session = require "lsgi.session"
local shared = require "lsgi.shared"
local Request = require "lsgi.request"
local json = require "json"

local T = {}

local function text(start_response, s, status)
  start_response(status or "200 OK", { { "Content-Type", "text/plain" } })
  return { s }
end

-- The routes of the test app.
local function routes(environ, start_response)
  local s = session.get(environ)
  local path = environ.PATH_INFO
  if path == "/login" then
    s:regenerate()
    s.data.user = "ann"
    return text(start_response, "welcome")
  elseif path == "/visit" then
    s:set("visits", (s:get("visits") or 0) + 1)
    return text(start_response, (s.data.user or "anonymous") .. " " .. s.data.visits)
  elseif path == "/whoami" then
    return text(start_response, s.data.user or "anonymous")
  elseif path == "/logout" then
    s:destroy()
    return text(start_response, "bye")
  elseif path == "/form" then
    return text(start_response, session.csrf_token(environ))
  elseif path == "/post" then
    local req = Request(environ)
    return text(start_response, "posted " .. tostring(req.form.note) .. " by " .. tostring(s.data.user))
  elseif path == "/id" then
    return text(start_response, tostring(s.id))
  end
  return text(start_response, "untouched")
end

local app = session(session.csrf_protect(routes))

-- A browser: keeps the cookie the app sets and sends it back.
local function browser(scheme)
  local b = { jar = nil }
  function b:get(path, opts)
    opts = opts or {}
    opts.path = path
    opts.scheme = opts.scheme or scheme
    opts.headers = opts.headers or {}
    if self.jar then opts.headers.Cookie = self.jar end
    local res = fake.request(app, opts)
    check.eq(res.error, nil, "app error on " .. path)
    local set = res:header("Set-Cookie")
    if set then
      local value = set:match("^lsgi_session=([^;]*)")
      if value == "" or set:find("Max-Age=0", 1, true) then self.jar = nil else self.jar = "lsgi_session=" .. value end
    end
    return res
  end
  return b
end

function T.no_session_no_cookie()
  local b = browser()
  local res = b:get("/untouched")
  check.eq(res:header("Set-Cookie"), nil)
  check.eq(res:header("Vary"), nil)
  res = b:get("/whoami")
  check.eq(res.body, "anonymous")
  check.eq(res:header("Set-Cookie"), nil, "an empty session is not stored")
  check.eq(res:header("Vary"), "Cookie")
end

function T.login_then_next_request()
  local b = browser()
  local res = b:get("/login")
  local set = res:header("Set-Cookie")
  check.ok(set, "login sets the cookie")
  check.matches(set, "^lsgi_session=[%w_%-]+%.[%w_%-]+; Path=/; HttpOnly; SameSite=Lax$")
  check.eq(b:get("/whoami").body, "ann")
  check.eq(b:get("/visit").body, "ann 1")
  local again = b:get("/visit")
  check.eq(again.body, "ann 2")
  check.eq(again:header("Set-Cookie"), nil, "the same id needs no new cookie")
  -- A second browser has its own session.
  check.eq(browser():get("/whoami").body, "anonymous")
end

function T.data_is_in_the_dictionary()
  local b = browser()
  b:get("/login")
  local id = b:get("/id").body
  local stored = shared.sessions:get(id)
  check.eq(json.decode(stored).user, "ann")
  check.eq(shared.sessions:ttl(id), 86400)
  check.ok(b.jar:find(id, 1, true), "the cookie carries the id")
end

function T.tampered_cookie_refused()
  local b = browser()
  b:get("/login")
  local good = b.jar
  local id, sig = good:match("^lsgi_session=([^.]+)%.(.+)$")
  local flipped = sig:sub(1, -2) .. (sig:sub(-1) == "A" and "B" or "A")
  for _, bad in ipairs({
    "lsgi_session=" .. id .. "." .. flipped,          -- a wrong signature
    "lsgi_session=" .. id,                            -- no signature
    "lsgi_session=" .. id .. "x." .. sig,             -- another id, the old signature
    "lsgi_session=garbage",
  }) do
    local res = fake.request(app, { path = "/whoami", headers = { Cookie = bad } })
    check.eq(res.body, "anonymous", bad)
    check.contains(res:header("Set-Cookie") or "", "Max-Age=0", "a bad cookie is cleared")
  end
  -- The real session is untouched.
  check.eq(b:get("/whoami").body, "ann")
end

function T.regenerate()
  local b = browser()
  b:get("/login")
  local first = b.jar
  b:get("/visit")
  local res = b:get("/login") -- logging in again regenerates the id
  check.ok(res:header("Set-Cookie"))
  check.ne(b.jar, first)
  check.eq(b:get("/visit").body, "ann 2", "the data moved to the new id")
  local old = fake.request(app, { path = "/whoami", headers = { Cookie = first } })
  check.eq(old.body, "anonymous", "the old id is dead")
end

function T.destroy()
  local b = browser()
  b:get("/login")
  local cookie = b.jar
  local id = b:get("/id").body
  local res = b:get("/logout")
  check.contains(res:header("Set-Cookie"), "Max-Age=0")
  check.eq(b.jar, nil)
  check.eq(shared.sessions:get(id), nil)
  check.eq(fake.request(app, { path = "/whoami", headers = { Cookie = cookie } }).body, "anonymous")
end

function T.idle_ttl()
  local gotest = require "gotest"
  local b = browser()
  b:get("/login")
  gotest.advance(80000)
  check.eq(b:get("/whoami").body, "ann", "each request starts the idle time again")
  gotest.advance(80000)
  check.eq(b:get("/whoami").body, "ann")
  gotest.advance(86401)
  check.eq(b:get("/whoami").body, "anonymous", "idle past the ttl")
end

function T.secure_under_https()
  local b = browser("https")
  local set = b:get("/login"):header("Set-Cookie")
  check.contains(set, "; Secure")
  local plain = browser("http"):get("/login"):header("Set-Cookie")
  check.lacks(plain, "Secure")
end

function T.cookie_path_is_the_mount()
  local res = fake.request(app, { path = "/login", script_name = "/notes" })
  check.contains(res:header("Set-Cookie"), "; Path=/notes;")
end

function T.csrf()
  local b = browser()
  b:get("/login")
  local token = b:get("/form").body
  check.eq(#token, 43)
  check.eq(b:get("/form").body, token, "one token per session")
  -- A form without the token, with a wrong one, from another session.
  local function post(body, headers)
    headers = headers or {}
    if b.jar then headers.Cookie = b.jar end
    return fake.request(app, { method = "POST", path = "/post", body = body,
      content_type = "application/x-www-form-urlencoded", headers = headers })
  end
  local res = post("note=hi")
  check.eq(res.code, 403)
  check.contains(res.body, "CSRF token")
  check.eq(post("note=hi&csrf_token=" .. token:sub(2) .. "A").code, 403)
  check.eq(post("note=hi&csrf_token=" .. browser():get("/form").body).code, 403)
  -- The right token in the form: the app still reads the whole form.
  res = post("note=hi&csrf_token=" .. token)
  check.eq(res.code, 200)
  check.eq(res.body, "posted hi by ann")
  -- Or in the header, as JavaScript clients send it.
  res = post("note=header", { ["X-CSRF-Token"] = token })
  check.eq(res.body, "posted header by ann")
  -- A multipart form.
  local boundary = "XyZ"
  local body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" .. token ..
    "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nmulti\r\n--XyZ--\r\n"
  res = fake.request(app, { method = "POST", path = "/post", body = body,
    content_type = "multipart/form-data; boundary=" .. boundary, headers = { Cookie = b.jar } })
  check.eq(res.body, "posted multi by ann")
  -- GET is not checked; a JSON POST needs the header.
  check.eq(b:get("/whoami").code, 200)
  res = fake.request(app, { method = "POST", path = "/post", body = "{}",
    content_type = "application/json", headers = { Cookie = b.jar } })
  check.eq(res.code, 403)
end

function T.csrf_valid()
  local env = fake.environ({})
  session(function(environ, start_response)
    check.no(session.csrf_valid(environ, nil))
    check.no(session.csrf_valid(environ, ""))
    local t = session.csrf_token(environ)
    check.ok(session.csrf_valid(environ, t))
    check.no(session.csrf_valid(environ, t .. "x"))
    return text(start_response, "ok")
  end)(env, function() end)
end

function T.errors()
  check.raises(function() session.get({}) end, "no session in this environ")
  check.raises(function() session(routes, { ttl = 0 }) end, "ttl must be a positive number")
  check.raises(function() session(routes, { cookie = "a b" }) end, "cookie must be a cookie name")
  check.raises(function() session(routes, { dict = 3 }) end, "dict must be")
  check.raises(function() session(routes, "x") end, "options must be a table")
  local res = fake.request(session(function(environ, start_response)
    session.get(environ).data = 5
  end), { path = "/" })
  check.contains(tostring(res.error), "only s.data can be assigned")
  -- Data that JSON cannot hold fails when the session is saved.
  res = fake.request(session(function(environ, start_response)
    session.get(environ).data.f = print
    return text(start_response, "x")
  end), { path = "/" })
  check.ok(res.error)
  check.eq(res.code, 500)
end

function T.used_after_start_response()
  local res = fake.request(session(function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return { session.csrf_token(environ) }
  end), { path = "/" })
  check.contains(tostring(res.error), "the session was first used after start_response")
  check.eq(res.code, 500)
end

function T.other_dictionary_and_options()
  local d = shared.global.everyone
  local a = session(routes, { dict = d, cookie = "sid", ttl = 60, max_age = 3600, same_site = "Strict", path = "/" })
  local res = fake.request(a, { path = "/login" })
  local set = res:header("Set-Cookie")
  check.matches(set, "^sid=")
  check.contains(set, "Max-Age=3600")
  check.contains(set, "SameSite=Strict")
  local id = set:match("^sid=([^.]+)")
  check.ok(d:get(id))
  check.eq(d:ttl(id), 60)
end

return T
