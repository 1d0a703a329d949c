-- Each case misuses start_response. /caught/<case> runs the case under pcall
-- and answers "RAISED: <message>" (calling start_response again with the
-- caught error as exc_info); /uncaught/<case> lets the error escape.
local H = {{"Content-Type", "text/plain"}}

local function header(name, value)
  return function(start_response)
    start_response("200 OK", {{"Content-Type", "text/plain"}, {name, value}})
  end
end

local function status(s)
  return function(start_response)
    start_response(s, H)
  end
end

local cases = {
  ["status-number"] = status(200),
  ["status-code-only"] = status("200"),
  ["status-bad-digit"] = status("20X OK"),
  ["status-no-space"] = status("200OK"),
  ["status-leading-space"] = status(" 200 OK"),
  ["status-crlf"] = status("200 OK\r\n"),
  ["status-injection"] = status("200 OK\r\nX-Injected: yes"),
  ["status-099"] = status("099 X"),
  ["status-1000"] = status("1000 X"),
  ["status-100"] = status("100 Continue"),
  ["status-600"] = status("600 X"),
  ["status-nil"] = status(nil),

  ["headers-nil"] = function(start_response) start_response("200 OK", nil) end,
  ["headers-string"] = function(start_response) start_response("200 OK", "Content-Type: text/plain") end,
  ["headers-map"] = function(start_response) start_response("200 OK", {["Content-Type"] = "text/plain"}) end,
  ["headers-flat"] = function(start_response) start_response("200 OK", {"Content-Type", "text/plain"}) end,

  ["value-number"] = header("Content-Length", 5),
  ["value-crlf"] = header("X-Bad", "a\r\nSet-Cookie: s=1"),
  ["value-lf"] = header("X-Bad", "a\nSet-Cookie: s=1"),
  ["value-cr"] = header("X-Bad", "a\rb"),
  ["value-nul"] = header("X-Bad", "a\0b"),
  ["name-empty"] = header("", "x"),
  ["name-space"] = header("X Y", "x"),
  ["name-colon"] = header("X:", "x"),
  ["name-number"] = header(42, "x"),

  ["cl-not-digits"] = header("Content-Length", "abc"),
  ["cl-negative"] = header("Content-Length", "-1"),
  ["cl-differing"] = function(start_response)
    start_response("200 OK", {{"Content-Length", "3"}, {"Content-Length", "4"}})
  end,

  ["hop-connection"] = header("Connection", "close"),
  ["hop-keep-alive"] = header("Keep-Alive", "timeout=5"),
  ["hop-transfer-encoding"] = header("Transfer-Encoding", "chunked"),
  ["hop-te"] = header("TE", "trailers"),
  ["hop-trailer"] = header("Trailer", "X-Sum"),
  ["hop-upgrade"] = header("Upgrade", "websocket"),
  ["hop-proxy-authenticate"] = header("Proxy-Authenticate", "Basic"),
  ["hop-proxy-authorization"] = header("Proxy-Authorization", "Basic eDp5"),
  ["hop-lower-case"] = header("connection", "close"),
  ["hop-upper-case"] = header("TRANSFER-ENCODING", "chunked"),

  ["second-call"] = function(start_response)
    start_response("200 OK", H)
    start_response("200 OK", H)
  end,
  ["second-call-exc-info-false"] = function(start_response)
    start_response("200 OK", H)
    start_response("500 Oops", H, false)
  end,
  ["second-call-after-failure"] = function(start_response)
    pcall(start_response, "200 OK\r\n", H)
    start_response("200 OK", H)
  end,
}

return function(environ, start_response)
  local mode, name = environ.PATH_INFO:match("^/(%a+)/(.+)$")
  local case = cases[name]
  if not case then
    start_response("404 Not Found", H)
    return {"no such case"}
  end
  if mode == "uncaught" then
    case(start_response)
    return {"NOT RAISED"}
  end
  local ok, err = pcall(case, start_response)
  if ok then
    return {"NOT RAISED"}
  end
  start_response("200 OK", H, err)
  return {"RAISED: " .. tostring(err)}
end
