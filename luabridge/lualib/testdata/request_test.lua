local check = require "check"
local fake = require "fake"
local Request = require "lsgi.request"
local Response = require "lsgi.response"

local T = {}

function T.test_basic_fields()
  local env = fake.environ { method = "POST", script_name = "/app", path = "/users/7", query = "x=1" }
  local req = Request(env)
  check.eq(req.method, "POST")
  check.eq(req.script_name, "/app")
  check.eq(req.path_info, "/users/7")
  check.eq(req.path, "/app/users/7")
  check.eq(req.query_string, "x=1")
  check.eq(req.scheme, "http")
  check.eq(req.host, "localhost:8000")
  check.eq(req.remote_addr, "127.0.0.1")
  check.eq(req.environ, env)
  check.raises(function() Request.new("nope") end, "environ table expected")
end

function T.test_multi_valued_query_args()
  local req = Request(fake.environ { query = "tag=a&tag=b&tag=&name=J%C3%B6rg+M&empty&&x=%zz" })
  check.eq(req.args.tag, "a", "first value")
  check.same(req.args_all.tag, { "a", "b", "" }, "all values in order")
  check.eq(req.args.name, "J\195\182rg M", "percent and plus decoded")
  check.eq(req.args.empty, "", "a name without = has the value \"\"")
  check.eq(req.args.x, "%zz", "a bad escape is kept")
  check.eq(req.args.missing, nil)
  check.same(Request(fake.environ { query = "" }).args, {})
end

function T.test_headers_case_insensitive()
  local req = Request(fake.environ {
    headers = { ["X-Token"] = "abc", ["Accept-Language"] = "fr" },
    content_type = "text/plain", body = "hi",
  })
  check.eq(req.headers["x-token"], "abc")
  check.eq(req.headers["X-TOKEN"], "abc")
  check.eq(req.headers["X_Token"], "abc")
  check.eq(req.headers["content-type"], "text/plain")
  check.eq(req.headers["Content-Length"], "2")
  check.eq(req:header("accept-language"), "fr")
  check.eq(req:header("Content-Type"), "text/plain")
  check.eq(req:header("X-Missing"), nil)
  local n = 0
  for name in pairs(req.headers) do
    check.eq(name, name:lower(), "iteration gives lower-case names")
    n = n + 1
  end
  check.ok(n >= 4)
end

function T.test_cookies()
  local req = Request(fake.environ { headers = { Cookie = 'session=abc123; theme="dark"; session=second; bad; =x; empty=' } })
  check.eq(req.cookies.session, "abc123", "first occurrence wins")
  check.eq(req.cookies.theme, "dark", "quotes removed")
  check.eq(req.cookies.empty, "")
  check.eq(req.cookies.bad, nil)
  check.same(Request(fake.environ {}).cookies, {})
end

function T.test_url_reconstruction()
  local req = Request(fake.environ { script_name = "/app", path = "/a b/c", query = "q=1" })
  check.eq(req.url, "http://localhost:8000/app/a%20b/c?q=1")
  check.eq(req.base_url, "http://localhost:8000/app")
  local root = Request(fake.environ { path = "/x", host = false })
  check.eq(root.url, "http://localhost:8000/x", "SERVER_NAME and SERVER_PORT without a Host")
  check.eq(root.base_url, "http://localhost:8000/")
  local https = Request(fake.environ { path = "/", scheme = "https", host = "example.org" })
  check.eq(https.url, "https://example.org/")
  check.eq(https.scheme, "https")
end

function T.test_body_bounded_by_content_length()
  local req = Request(fake.environ { method = "POST", body = string.rep("x", 100) }, { max_body = 10 })
  local err = check.raises(function() return req.body end)
  check.ok(Response.is_http_error(err))
  check.eq(err.status, 413)
  local ok = Request(fake.environ { method = "POST", body = "hello" }, { max_body = 10 })
  check.eq(ok.body, "hello")
  check.eq(ok.content_length, 5)
end

function T.test_body_chunked_upload()
  local env = fake.environ { method = "POST", body = string.rep("y", 70000), chunked = true }
  check.eq(env.CONTENT_LENGTH, nil)
  local req = Request(env)
  check.eq(#req.body, 70000, "read to the end of a chunked body")
  local big = Request(fake.environ { method = "POST", body = string.rep("y", 50), chunked = true }, { max_body = 49 })
  local err = check.raises(function() return big.body end)
  check.eq(err.status, 413)
end

function T.test_body_short_and_absent()
  local env = fake.environ { method = "POST", body = "abc" }
  env.CONTENT_LENGTH = "10"
  local err = check.raises(function() return Request(env).body end)
  check.eq(err.status, 400)
  local none = fake.environ { method = "GET" }
  none["lsgi.input_terminated"] = nil
  check.eq(Request(none).body, "", "no Content-Length and no end guarantee: no body")
  local bad = fake.environ {}
  bad.CONTENT_LENGTH = "12abc"
  check.eq(check.raises(function() return Request(bad).content_length end).status, 400)
end

function T.test_urlencoded_form()
  local req = Request(fake.environ {
    method = "POST", content_type = "application/x-www-form-urlencoded; charset=utf-8",
    body = "a=1&b=two+words&a=3",
  })
  check.eq(req.form.a, "1")
  check.same(req.form_all.a, { "1", "3" })
  check.eq(req.form.b, "two words")
  check.same(req.files, {})
  check.eq(req.mimetype, "application/x-www-form-urlencoded")
end

local function multipart(boundary, parts)
  local out = {}
  for _, p in ipairs(parts) do
    out[#out + 1] = "--" .. boundary .. "\r\n"
    if p.filename then
      out[#out + 1] = 'Content-Disposition: form-data; name="' .. p.name .. '"; filename="' .. p.filename .. '"\r\n'
      out[#out + 1] = "Content-Type: " .. (p.type or "application/octet-stream") .. "\r\n"
    else
      out[#out + 1] = 'Content-Disposition: form-data; name="' .. p.name .. '"\r\n'
    end
    out[#out + 1] = "\r\n" .. p.data .. "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(out)
end

function T.test_multipart_upload_with_file()
  local content = "line one\r\nline two\0binary\255"
  local body = multipart("XyZ", {
    { name = "title", data = "My upload" },
    { name = "tags", data = "a" },
    { name = "tags", data = "b" },
    { name = "doc", filename = "../../etc/notes.txt", type = "text/plain", data = content },
    { name = "doc", filename = "second.bin", data = "2" },
  })
  local req = Request(fake.environ {
    method = "POST", content_type = "multipart/form-data; boundary=XyZ", body = body,
  })
  check.eq(req.form.title, "My upload")
  check.same(req.form_all.tags, { "a", "b" })
  local f = req.files.doc
  check.eq(f.filename, "notes.txt", "directories are stripped from the client's file name")
  check.eq(f.content_type, "text/plain")
  check.eq(f.data, content, "bytes kept exactly")
  check.eq(f.size, #content)
  check.eq(f.name, "doc")
  check.contains(f.headers["content-disposition"], "form-data")
  check.eq(#req.files_all.doc, 2)
  check.eq(req.files_all.doc[2].filename, "second.bin")
  check.eq(req.form.doc, nil, "files are not form fields")
end

function T.test_multipart_malformed()
  local req = Request(fake.environ {
    method = "POST", content_type = "multipart/form-data; boundary=XyZ", body = "--XyZ\r\nno end",
  })
  local err = check.raises(function() return req.form end)
  check.eq(err.status, 400)
  local nob = Request(fake.environ { method = "POST", content_type = "multipart/form-data", body = "x" })
  check.eq(check.raises(function() return nob.files end).status, 400)
end

function T.test_json_body()
  local json = require "json"
  local req = Request(fake.environ {
    method = "POST", content_type = "application/json", body = '{"name":"x","tags":[1,null,3]}',
  })
  check.eq(req.json.name, "x")
  check.eq(req.json.tags[2], json.null)
  check.eq(req.json.tags[3], 3)
  local bad = Request(fake.environ { method = "POST", content_type = "application/json", body = "{oops" })
  check.eq(check.raises(function() return bad.json end).status, 400)
  local wrong = Request(fake.environ { method = "POST", content_type = "text/plain", body = "{}" })
  check.eq(check.raises(function() return wrong.json end).status, 415)
  local problem = Request(fake.environ { method = "POST", content_type = "application/problem+json", body = "[]" })
  check.same(problem.json, {})
end

function T.test_params_from_router()
  local env = fake.environ {}
  check.same(Request(env).params, {})
  env["lsgi.router.params"] = { id = "7" }
  check.eq(Request(env).params.id, "7")
end

return T
