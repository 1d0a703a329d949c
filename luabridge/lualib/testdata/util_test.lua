local check = require "check"
local fake = require "fake"
local util = require "lsgi.util"
local html = require "lsgi.html"
local body = require "lsgi.body"

local T = {}

function T.test_html_escape()
  check.eq(html.escape([[<a href="x">Tom & Jerry's</a>]]), "&lt;a href=&#34;x&#34;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
  check.eq(html.escape("plain"), "plain")
  check.eq(html.escape(12), "12")
  check.raises(function() html.escape(nil) end, "string expected")
  check.eq(html.unescape("&lt;&#39;&amp;&gt;"), "<'&>")
end

function T.test_quote_and_qs()
  check.eq(util.quote("/a b/ü"), "/a%20b/%C3%BC")
  check.eq(util.quote("a/b", ""), "a%2Fb")
  check.eq(util.quote_plus("a b&c"), "a+b%26c")
  check.eq(util.unquote("%41%2fb+c%zz"), "A/b+c%zz")
  check.eq(util.unquote_plus("a+b%20c"), "a b c")
  local first, all = util.parse_qs("a=1&b=2&a=3")
  check.eq(first.a, "1")
  check.same(all.a, { "1", "3" })
  check.eq(util.urlencode({ { "q", "a b" }, { "q", "&" }, { "n", 3 } }), "q=a+b&q=%26&n=3")
  check.eq(util.urlencode({ z = "1", a = { "x", "y" } }), "a=x&a=y&z=1")
  check.raises(function() util.urlencode({ f = function() end }) end, "must be a string")
end

function T.test_shift_path_info()
  local env = { SCRIPT_NAME = "/a", PATH_INFO = "/x/y" }
  check.eq(util.shift_path_info(env), "x")
  check.eq(env.SCRIPT_NAME, "/a/x")
  check.eq(env.PATH_INFO, "/y")
  check.eq(util.shift_path_info(env), "y")
  check.eq(env.SCRIPT_NAME, "/a/x/y")
  check.eq(env.PATH_INFO, "")
  check.eq(util.shift_path_info(env), nil)
  local dot = { SCRIPT_NAME = "/a/b", PATH_INFO = "/." }
  check.eq(util.shift_path_info(dot), nil)
  check.eq(dot.SCRIPT_NAME, "/a/b")
  check.eq(dot.PATH_INFO, "")
end

function T.test_uris_and_dates()
  local env = fake.environ { script_name = "/app", path = "/p q", query = "x=1", host = false }
  check.eq(util.application_uri(env), "http://localhost:8000/app")
  check.eq(util.request_uri(env), "http://localhost:8000/app/p%20q?x=1")
  check.eq(util.request_uri(env, false), "http://localhost:8000/app/p%20q")
  env.SERVER_PORT = "80"
  check.eq(util.application_uri(env), "http://localhost/app")
  env["lsgi.url_scheme"] = "https"
  env.SERVER_PORT = "443"
  check.eq(util.application_uri(env), "https://localhost/app")
  check.eq(util.guess_scheme(env), "https")
  check.eq(util.http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT")
  check.eq(util.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777)
  check.eq(util.parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777)
  check.eq(util.parse_http_date("yesterday"), nil)
  check.eq(util.status_line(404), "404 Not Found")
  check.raises(function() util.status_line(99) end, "100 to 599")
  check.ok(util.is_hop_by_hop("Transfer-Encoding"))
  check.no(util.is_hop_by_hop("Content-Type"))
  check.ok(util.is_loopback("127.0.0.1"))
  check.ok(util.is_loopback("::1"))
  check.no(util.is_loopback("10.0.0.1"))
  check.no(util.is_loopback(nil))
  check.ok(util.accepts_encoding("gzip;q=0.5", "gzip"))
  check.no(util.accepts_encoding("br", "gzip"))
end

function T.test_body_helpers()
  local function collect(result)
    local out, nxt = {}, body.iter(result)
    while true do
      local c = nxt()
      if c == nil then break end
      out[#out + 1] = c
    end
    check.eq(nxt(), nil, "nil forever after the end")
    return table.concat(out, ",")
  end
  check.eq(collect({ "a", "b" }), "a,b")
  local i = 0
  check.eq(collect(function() i = i + 1; if i < 3 then return "f" .. i end end), "f1,f2")
  check.eq(collect(coroutine.create(function() coroutine.yield("c1"); coroutine.yield(); return "ignored" end)), "c1,")
  local obj = fake.counting_body({ "o1" })
  check.eq(collect(obj), "o1")
  check.eq(body.kind("s"), nil)
  check.ok(body.has_close(obj))
  check.no(body.has_close({ "x" }))
  body.close({ "x" }) -- no close: nothing happens
  check.raises(function() body.iter("text") end, "return {s} instead")
  local co = coroutine.create(function() error("inside") end)
  check.raises(function() body.iter(co)() end, "inside")
end

return T
