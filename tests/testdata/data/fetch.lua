-- fetch: lsgi.http end to end. The query string is the URL to fetch.
--   /fetch?URL          the body fetched, or 502 with the error when it fails
--   /fetch/stream?URL   the body streamed through res:iter()
--   /fetch/raw?URL      the request, not caught: a failure is a 500
local http = require "lsgi.http"

return function(environ, start_response)
  local url = environ.QUERY_STRING
  if environ.PATH_INFO == "/raw" then
    local res = http.request(url)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return { res.body }
  end
  local ok, res = pcall(http.request, { url = url, stream = environ.PATH_INFO == "/stream" })
  if not ok then
    start_response("502 Bad Gateway", { { "Content-Type", "text/plain" } })
    return { res }
  end
  start_response(res.status .. " " .. res.reason, { { "Content-Type", "text/plain" } })
  if res.body then return { res.body } end
  return res:iter(1000)
end
