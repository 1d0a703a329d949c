local check = require "check"
local fake = require "fake"
local gotest = require "gotest"
local gzip = require "lsgi.middleware.gzip"
local static = require "lsgi.middleware.static"
local Response = require "lsgi.response"

local T = {}

local TEXT = string.rep("The quick brown fox jumps over the lazy dog. ", 40)

local function text_app(ctype, extra)
  return function(environ, start_response)
    local headers = { { "Content-Type", ctype or "text/html; charset=utf-8" }, { "Content-Length", tostring(#TEXT) } }
    for _, h in ipairs(extra or {}) do headers[#headers + 1] = h end
    start_response("200 OK", headers)
    return { TEXT }
  end
end

local GZ = { ["Accept-Encoding"] = "gzip, deflate, br" }

function T.test_compresses_when_accepted()
  local res = fake.request(gzip(text_app()), { headers = GZ })
  check.eq(res.status, "200 OK")
  check.eq(res:header("content-encoding"), "gzip")
  check.eq(res:header("vary"), "Accept-Encoding")
  check.eq(res:header("content-length"), nil, "the length changes, so it is removed")
  check.ok(#res.body < #TEXT / 4, "smaller")
  check.eq(gotest.gunzip(res.body), TEXT)
end

function T.test_not_compressed()
  local plain = fake.request(gzip(text_app()), {})
  check.eq(plain:header("content-encoding"), nil, "no Accept-Encoding")
  check.eq(plain:header("vary"), "Accept-Encoding", "but caches are told it varies")
  check.eq(plain.body, TEXT)
  check.eq(plain:header("content-length"), tostring(#TEXT))
  local refused = fake.request(gzip(text_app()), { headers = { ["Accept-Encoding"] = "gzip;q=0, identity" } })
  check.eq(refused:header("content-encoding"), nil, "q=0 refuses gzip")
  local star = fake.request(gzip(text_app()), { headers = { ["Accept-Encoding"] = "*" } })
  check.eq(star:header("content-encoding"), "gzip", "* allows gzip")
  local image = fake.request(gzip(text_app("image/png")), { headers = GZ })
  check.eq(image:header("content-encoding"), nil, "images are not compressible")
  check.eq(image:header("vary"), nil)
  local encoded = fake.request(gzip(text_app("text/plain", { { "Content-Encoding", "br" } })), { headers = GZ })
  check.eq(encoded:header("content-encoding"), "br", "already encoded")
  local notransform = fake.request(gzip(text_app("text/plain", { { "Cache-Control", "no-transform" } })), { headers = GZ })
  check.eq(notransform:header("content-encoding"), nil)
  local small = fake.request(gzip(Response("tiny")), { headers = GZ })
  check.eq(small:header("content-encoding"), nil, "below min_size")
  check.eq(small.body, "tiny")
  local nocontent = fake.request(gzip(Response(nil, 204, { { "Content-Type", "text/plain" } })), { headers = GZ })
  check.eq(nocontent:header("content-encoding"), nil)
end

function T.test_streaming_chunk_by_chunk()
  local produced = 0
  local app = function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    local i = 0
    return function()
      i = i + 1
      if i > 5 then return nil end
      produced = i
      return "chunk " .. i .. " " .. string.rep("x", 100) .. "\n"
    end
  end
  local res = fake.request(gzip(app), { headers = GZ })
  check.eq(res:header("content-encoding"), "gzip")
  check.ok(#res.chunks >= 6, "one compressed chunk per input chunk, plus the trailer")
  -- Each flushed prefix decompresses on its own: the stream really streams.
  local prefix = res.chunks[1] .. res.chunks[2]
  local ok = pcall(gotest.gunzip, prefix)
  check.no(ok, "a prefix is not a complete gzip file")
  local all = gotest.gunzip(res.body)
  check.contains(all, "chunk 1 ")
  check.contains(all, "chunk 5 ")
  check.eq(produced, 5)
end

function T.test_write_output_is_compressed()
  local app = function(environ, start_response)
    local write = start_response("200 OK", { { "Content-Type", "text/plain" } })
    write("written " .. TEXT)
    return { "returned" }
  end
  local res = fake.request(gzip(app), { headers = GZ })
  check.eq(gotest.gunzip(res.body), "written " .. TEXT .. "returned")
end

function T.test_etag_made_weak_and_static_files()
  local app = gzip(static(nil))
  gotest.write("static/page.html", "<p>" .. TEXT .. "</p>")
  local res = fake.request(app, { path = "/static/page.html", headers = GZ })
  check.eq(res:header("content-encoding"), "gzip")
  check.matches(res:header("etag"), '^W/"')
  check.eq(gotest.gunzip(res.body), "<p>" .. TEXT .. "</p>")
  local again = fake.request(app, { path = "/static/page.html", headers = {
    ["Accept-Encoding"] = "gzip", ["If-None-Match"] = res:header("etag") } })
  check.eq(again.status, "304 Not Modified", "the weak tag still validates")
  local range = fake.request(app, { path = "/static/page.html", headers = { ["Accept-Encoding"] = "gzip", Range = "bytes=0-9" } })
  check.eq(range.status, "206 Partial Content")
  check.eq(range:header("content-encoding"), nil, "ranges are not compressed")
  check.eq(range.body, "<p>The qui")
end

function T.test_head_and_close_once()
  local obj, counter = fake.counting_body({ TEXT, TEXT })
  local app = function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return obj
  end
  local res = fake.request(gzip(app), { headers = GZ })
  check.eq(gotest.gunzip(res.body), TEXT .. TEXT)
  check.eq(counter.closes, 1)
  local obj2, counter2 = fake.counting_body({ TEXT })
  local head = fake.request(gzip(function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return obj2
  end), { method = "HEAD", headers = GZ })
  check.eq(head:header("content-encoding"), "gzip", "HEAD has the headers of GET")
  check.eq(head.body, "")
  check.eq(counter2.closes, 1)
end

function T.test_exc_info_restarts_decision()
  local app = function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    local ok, err = pcall(error, "failed")
    start_response("500 Internal Server Error", { { "Content-Type", "image/png" } }, err)
    return { TEXT }
  end
  local res = fake.request(gzip(app), { headers = GZ })
  check.eq(res.error, nil)
  check.eq(res.status, "500 Internal Server Error")
  check.eq(res:header("content-encoding"), nil, "the second call's headers decide")
  check.eq(res.body, TEXT)
end

function T.test_bad_options()
  check.raises(function() gzip(text_app(), { level = 0 }) end, "level")
  check.raises(function() gzip(text_app(), { min_size = "x" }) end, "min_size")
end

return T
