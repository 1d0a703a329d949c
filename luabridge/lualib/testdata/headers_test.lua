local check = require "check"
local fake = require "fake"
local headers = require "lsgi.middleware.headers"

local T = {}

-- The seed's myapp and Middleware: add X-A-SIMPLE-TOKEN to every response.
local function myapp(environ, start_response)
  local response_headers = { { "content-type", "text/plain" } }
  start_response("200 OK", response_headers)
  return { "Check the headers!" }
end

function T.test_seed_token_middleware()
  local app = headers(myapp, { { "X-A-SIMPLE-TOKEN", "1234567890" } })
  local res = fake.request(app)
  check.eq(res.body, "Check the headers!")
  check.eq(res:header("x-a-simple-token"), "1234567890")
  check.eq(res:header("content-type"), "text/plain")
end

function T.test_set_add_default_remove()
  local app = function(environ, start_response)
    start_response("200 OK", {
      { "Content-Type", "text/plain" }, { "Server", "app" }, { "X-Powered-By", "lua" }, { "Link", "<a>" },
    })
    return { "x" }
  end
  local res = fake.request(headers(app, {
    set = { { "server", "lsgi" } },
    add = { { "Link", "<b>" } },
    default = { { "Content-Type", "text/html" }, { "Cache-Control", "no-store" } },
    remove = { "x-powered-by" },
  }))
  check.same(res:header_all("server"), { "lsgi" }, "set replaces")
  check.same(res:header_all("link"), { "<a>", "<b>" }, "add appends")
  check.eq(res:header("content-type"), "text/plain", "default does not override")
  check.eq(res:header("cache-control"), "no-store", "default fills in")
  check.eq(res:header("x-powered-by"), nil, "remove drops")
end

function T.test_app_header_list_is_not_changed()
  local list = { { "Content-Type", "text/plain" } }
  local app = function(environ, start_response)
    start_response("200 OK", list)
    return {}
  end
  fake.request(headers(app, { { "X-Extra", "1" } }))
  check.eq(#list, 1)
end

function T.test_exc_info_and_close_pass_through()
  local obj, counter = fake.counting_body({ "body" })
  local app = function(environ, start_response)
    start_response("200 OK", {})
    local ok, err = pcall(error, "late failure")
    start_response("500 Internal Server Error", { { "Content-Type", "text/plain" } }, err)
    return obj
  end
  local res = fake.request(headers(app, { { "X-Token", "t" } }))
  check.eq(res.status, "500 Internal Server Error")
  check.eq(res:header("x-token"), "t")
  check.eq(counter.closes, 1)
  -- After output, exc_info reaches the server, which re-raises it.
  local after = function(environ, start_response)
    local write = start_response("200 OK", {})
    write("sent")
    start_response("500 Internal Server Error", {}, "too late")
    return {}
  end
  local res2 = fake.request(headers(after, { { "X-Token", "t" } }))
  check.ok(res2.aborted)
  check.eq(res2.error, "too late")
end

function T.test_bad_specs()
  check.raises(function() headers(myapp) end, "spec table")
  check.raises(function() headers(myapp, { { "X", 1 } }) end, "pair of strings")
  check.raises(function() headers(myapp, { set = { { "X", "a\nb" } } }) end, "CR, LF or NUL")
  check.raises(function() headers(myapp, { remove = { 3 } }) end, "must be a name")
end

return T
