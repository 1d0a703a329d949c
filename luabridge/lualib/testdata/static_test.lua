local check = require "check"
local fake = require "fake"
local static = require "lsgi.middleware.static"
local Response = require "lsgi.response"

local T = {}

local function get(app, path, headers, method)
  return fake.request(app, { path = path, headers = headers, method = method })
end

function T.test_serves_file_with_type_etag_and_length()
  local app = static(nil)
  local res = get(app, "/static/site.css")
  check.eq(res.status, "200 OK")
  check.eq(res.body, "body { color: #334; }\n")
  check.eq(res:header("content-type"), "text/css; charset=utf-8")
  check.eq(res:header("content-length"), tostring(#res.body))
  check.matches(res:header("etag"), '^"[0-9a-f]+%-[0-9a-f]+"$')
  check.matches(res:header("last-modified"), "GMT$")
  check.eq(res:header("accept-ranges"), "bytes")
  check.eq(res:header("x-content-type-options"), "nosniff")
  check.eq(get(app, "/static/hello.txt"):header("content-type"), "text/plain; charset=utf-8")
  check.eq(get(app, "/static/data.json"):header("content-type"), "application/json")
  check.eq(get(app, "/static/pixel.png"):header("content-type"), "image/png")
  check.eq(get(app, "/static/100%.txt").body, "percent file\n", "a literal % in a name still works")
end

function T.test_etag_and_if_none_match()
  local app = static(nil, { max_age = 60 })
  local first = get(app, "/static/site.css")
  local etag = first:header("etag")
  check.eq(first:header("cache-control"), "public, max-age=60")
  local again = get(app, "/static/site.css", { ["If-None-Match"] = etag })
  check.eq(again.status, "304 Not Modified")
  check.eq(again.body, "")
  check.eq(again:header("etag"), etag)
  check.eq(get(app, "/static/site.css", { ["If-None-Match"] = '"other", W/' .. etag }).status, "304 Not Modified",
    "weak comparison in a list")
  check.eq(get(app, "/static/site.css", { ["If-None-Match"] = "*" }).status, "304 Not Modified")
  check.eq(get(app, "/static/site.css", { ["If-None-Match"] = '"nope"' }).status, "200 OK")
  -- If-None-Match wins over If-Modified-Since.
  check.eq(get(app, "/static/site.css", {
    ["If-None-Match"] = '"nope"', ["If-Modified-Since"] = first:header("last-modified"),
  }).status, "200 OK")
end

function T.test_if_modified_since()
  local app = static(nil)
  local lm = get(app, "/static/site.css"):header("last-modified")
  check.eq(get(app, "/static/site.css", { ["If-Modified-Since"] = lm }).status, "304 Not Modified")
  check.eq(get(app, "/static/site.css", { ["If-Modified-Since"] = "Thu, 01 Jan 1970 00:00:00 GMT" }).status, "200 OK")
  check.eq(get(app, "/static/site.css", { ["If-Modified-Since"] = "garbage" }).status, "200 OK")
end

function T.test_range_requests()
  local app = static(nil)
  local res = get(app, "/static/hello.txt", { Range = "bytes=0-4" })
  check.eq(res.status, "206 Partial Content")
  check.eq(res.body, "hello")
  check.eq(res:header("content-range"), "bytes 0-4/20")
  check.eq(res:header("content-length"), "5")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=7-" }).body, "static world\n")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=-6" }).body, "world\n")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=15-100" }).body, "orld\n", "the end is clamped")
  local bad = get(app, "/static/hello.txt", { Range = "bytes=20-" })
  check.eq(bad.status, "416 Range Not Satisfiable")
  check.eq(bad:header("content-range"), "bytes */20")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=5-2" }).status, "200 OK", "an invalid range is ignored")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=0-1,4-5" }).status, "200 OK", "several ranges: whole file")
  check.eq(get(app, "/static/hello.txt", { Range = "lines=1-2" }).status, "200 OK")
  local etag = get(app, "/static/hello.txt"):header("etag")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=0-4", ["If-Range"] = etag }).status, "206 Partial Content")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=0-4", ["If-Range"] = '"stale"' }).status, "200 OK",
    "If-Range that does not match: the whole file")
  check.eq(get(app, "/static/hello.txt", { Range = "bytes=0-4" }, "HEAD").status, "200 OK", "HEAD ignores Range")
end

function T.test_head_and_big_file_streaming()
  local app = static(nil)
  local head = get(app, "/static/big.txt", nil, "HEAD")
  check.eq(head.status, "200 OK")
  check.eq(head:header("content-length"), tostring(200 * 1024 + 123))
  check.eq(head.body, "")
  local res = get(app, "/static/big.txt")
  check.eq(#res.body, 200 * 1024 + 123)
  check.ok(#res.chunks >= 7, "streamed in chunks")
  check.eq(res.closes, 1, "the file body has close")
  check.eq(res.body:sub(1, 3), "abc")
  local part = get(app, "/static/big.txt", { Range = "bytes=100000-" })
  check.eq(#part.body, 200 * 1024 + 123 - 100000)
  check.eq(part.body:sub(1, 1), string.char(97 + 100000 % 26))
end

function T.test_traversal_attempts_are_refused()
  local app = static(nil)
  local attempts = {
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/%2e%2e/outside-secret.txt",
    "/static/sub/../../secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/..\\secret.txt",
    "/static//etc/passwd",
    "/static/./site.css",
    "/static/.hidden",
    "/static/%2ehidden",
    "/static/escape.txt",   -- symlink ../../outside-secret.txt
    "/static/absolute.txt", -- symlink to an absolute path
    "/static/up.txt",       -- symlink ../secret.txt: inside the app, outside the static folder
    "/static/parent/secret.txt", -- a symlinked directory leading up
    "/static/site.css\0.png",
  }
  for _, p in ipairs(attempts) do
    local res = get(app, p)
    check.eq(res.status, "404 Not Found", p)
    check.lacks(res.body, "SECRET", p)
  end
  check.eq(get(app, "/static/alias.css").body, "body { color: #334; }\n", "a symlink inside the folder is followed")
end

function T.test_directories_and_fall_through()
  local inner = function(environ, start_response)
    return Response("app saw " .. environ.PATH_INFO)(environ, start_response)
  end
  local app = static(inner)
  check.eq(get(app, "/static/sub/").body, "<!DOCTYPE html><title>sub</title>\n")
  local redirect = get(app, "/static/sub")
  check.eq(redirect.status, "301 Moved Permanently")
  check.eq(redirect:header("location"), "/static/sub/")
  check.eq(get(app, "/static/docs/").body, "app saw /static/docs/", "no index: no listing")
  check.eq(get(app, "/static/missing.css").body, "app saw /static/missing.css")
  check.eq(get(app, "/other").body, "app saw /other")
  check.eq(get(app, "/static/../secret.txt").body, "app saw /static/../secret.txt", "refused paths fall through")
  check.eq(fake.request(app, { method = "POST", path = "/static/site.css" }).body, "app saw /static/site.css")
  local noindex = static(nil, { index = false })
  check.eq(get(noindex, "/static/sub/").status, "404 Not Found")
  check.eq(get(noindex, "/static/sub").status, "404 Not Found")
end

function T.test_prefix_and_dir_options()
  local app = static(nil, { prefix = "/assets/", dir = "static/sub" })
  check.eq(get(app, "/assets/index.html").status, "200 OK")
  check.eq(get(app, "/assets/../hello.txt").status, "404 Not Found")
  local root = static(nil, { prefix = "", dir = "static" })
  check.eq(get(root, "/hello.txt").body, "hello, static world\n")
  check.raises(function() static(nil, { dir = "../x" }) end, "inside the app's folder")
  check.raises(function() static(nil, { prefix = "nope" }) end, "prefix")
  check.raises(function() static(nil, { max_age = -1 }) end, "max_age")
  check.raises(function() static(nil, { index = "a/b.html" }) end, "plain file name")
end

return T
