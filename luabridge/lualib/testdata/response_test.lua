local check = require "check"
local fake = require "fake"
local Response = require "lsgi.response"
local json = require "json"

local T = {}

function T.test_string_body_is_an_app()
  local app = function(environ, start_response)
    local resp = Response("Hello World")
    resp:set_header("X-Seed", "werkzeug")
    return resp(environ, start_response)
  end
  local res = fake.request(app)
  check.eq(res.status, "200 OK")
  check.eq(res.body, "Hello World")
  check.eq(res:header("content-length"), "11")
  check.eq(res:header("content-type"), "text/plain; charset=utf-8")
  check.eq(res:header("x-seed"), "werkzeug")
end

function T.test_status_forms()
  check.eq(fake.request(Response("x", 404)).status, "404 Not Found")
  check.eq(fake.request(Response("x", "299 Custom Reason")).status, "299 Custom Reason")
  check.eq(fake.request(Response("x", 299)).status, "299 Unknown")
  check.eq(fake.request(Response("x", "201")).status, "201 Created")
  local r = Response("x")
  r.status = 418
  check.eq(fake.request(r).status, "418 I'm a teapot")
  check.raises(function() Response("x", {}) end, "status must be")
  local bad = fake.request(Response("x", 1000))
  check.contains(tostring(bad.error), "status code")
end

function T.test_bodiless_status_has_no_type_or_length()
  local res = fake.request(Response(nil, 204))
  check.eq(res.status, "204 No Content")
  check.eq(res:header("content-type"), nil)
  check.eq(res:header("content-length"), nil)
end

function T.test_headers_multi_valued_and_case_insensitive()
  local r = Response("x", 200, { { "Link", "<a>" }, { "link", "<b>" } })
  check.same(r:get_all_headers("LINK"), { "<a>", "<b>" })
  check.eq(r:get_header("Link"), "<a>")
  r:add_header("Link", "<c>")
  check.eq(#r:get_all_headers("link"), 3)
  r:set_header("LINK", "<only>")
  check.same(r:get_all_headers("link"), { "<only>" })
  r:remove_header("link")
  check.eq(r:get_header("link"), nil)
  local m = Response("x", 200, { ["X-B"] = "2", ["X-A"] = "1" })
  check.eq(m.headers[1][1], "X-A", "a map of headers is sorted by name")
  check.raises(function() r:set_header("X-Num", 5) end, "must be a string")
  check.raises(function() r:set_header("X-Bad", "a\r\nInjected: 1") end, "CR, LF or NUL")
  local res = fake.request(Response("x", 200, { { "Content-Type", "text/csv" } }))
  check.eq(res:header("content-type"), "text/csv", "the app's Content-Type is kept")
end

function T.test_cookies()
  local r = Response("x")
  r:set_cookie("session", "abc123", { path = "/", http_only = true, secure = true, same_site = "Lax", max_age = 3600 })
  r:set_cookie("theme", "dark")
  r:delete_cookie("old", { path = "/app" })
  local res = fake.request(r)
  local cookies = res:header_all("set-cookie")
  check.eq(#cookies, 3)
  check.contains(cookies[1], "session=abc123")
  check.contains(cookies[1], "Path=/")
  check.contains(cookies[1], "Max-Age=3600")
  check.contains(cookies[1], "HttpOnly")
  check.contains(cookies[1], "Secure")
  check.contains(cookies[1], "SameSite=Lax")
  check.eq(cookies[2], "theme=dark")
  check.contains(cookies[3], "old=")
  check.contains(cookies[3], "Max-Age=0")
  check.contains(cookies[3], "Expires=Thu, 01 Jan 1970")
  check.contains(cookies[3], "Path=/app")
  check.raises(function() r:set_cookie("bad name", "x") end, "cookie")
  check.raises(function() r:set_cookie("n", "semi;colon") end, "cookie")
  check.raises(function() r:set_cookie("n", "v", { same_site = "sometimes" }) end, "same_site")
  check.raises(function() r:set_cookie("n", "v", { max_age = "10" }) end, "max_age")
end

function T.test_table_and_streaming_bodies()
  local res = fake.request(Response({ "a", "b", "c" }))
  check.eq(res.body, "abc")
  check.eq(res:header("content-length"), nil, "no length is invented for a table body")
  local i = 0
  local res2 = fake.request(Response(function()
    i = i + 1
    if i <= 3 then return "chunk" .. i end
  end))
  check.eq(res2.body, "chunk1chunk2chunk3")
  check.same(res2.chunks, { "chunk1", "chunk2", "chunk3" }, "streamed chunk by chunk")
  local co = coroutine.create(function() coroutine.yield("x"); coroutine.yield("y") end)
  check.eq(fake.request(Response(co)).body, "xy")
  local obj, counter = fake.counting_body({ "1", "2" })
  local res3 = fake.request(Response(obj))
  check.eq(res3.body, "12")
  check.eq(counter.closes, 1, "the body's close is reached by the server")
end

function T.test_helpers()
  local res = fake.request(Response.json({ ok = true, items = { 1, 2 } }, 201))
  check.eq(res.status, "201 Created")
  check.eq(res:header("content-type"), "application/json")
  check.same(json.decode(res.body), { ok = true, items = { 1, 2 } })
  local h = fake.request(Response.html("<p>hi</p>"))
  check.eq(h:header("content-type"), "text/html; charset=utf-8")
  local t = fake.request(Response.text("plain", 202))
  check.eq(t.status, "202 Accepted")
  local r = fake.request(Response.redirect("/login?next=%2F"))
  check.eq(r.status, "302 Found")
  check.eq(r:header("location"), "/login?next=%2F")
  check.eq(fake.request(Response.redirect("/x", 301)).status, "301 Moved Permanently")
  check.raises(function() Response.redirect("/x\r\nSet-Cookie: a=1") end, "CR, LF or NUL")
end

function T.test_abort()
  local err = check.raises(function() Response.abort(404, "no such user") end)
  check.ok(Response.is_http_error(err))
  check.eq(err.status, 404)
  check.eq(err.message, "no such user")
  check.eq(tostring(err), "HTTP error 404 Not Found: no such user")
  check.raises(function() Response.abort(200) end, "400 to 599")
  check.no(Response.is_http_error("text"))
end

function T.test_head_request_drops_body()
  local res = fake.request(Response("hello"), { method = "HEAD" })
  check.eq(res.body, "")
  check.eq(res:header("content-length"), "5")
end

return T
