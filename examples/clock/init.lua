-- clock: server-sent events with lsgi.sleep.
--
--   GET /clock          a page that shows the server's clock, live
--   GET /clock/events   the event stream it reads: one event every
--                       ?every=SECONDS (default 1), ?count=N of them
--                       (default: until the stream's time is up)
--
-- The stream is a coroutine: each event is yielded (the host sends it at
-- once), then lsgi.sleep waits on a Go timer, so a waiting stream costs no
-- CPU. Each turn moves the request's deadline a little further with
-- lsgi.extend_deadline; the host stops that at --max-stream-time (5m by
-- default), and the stream then ends. The browser's EventSource connects
-- again by itself, sending the last id it saw (Last-Event-ID).
local lsgi     = require "lsgi"
local Router   = require "lsgi.router"
local Request  = require "lsgi.request"
local Response = require "lsgi.response"

local PAGE = [[<!doctype html>
<html><head><meta charset="utf-8"><title>clock</title></head>
<body>
<h1 id="time">waiting for the server...</h1>
<p>Events received: <span id="n">0</span></p>
<script>
var n = 0, es = new EventSource(location.pathname.replace(/\/?$/, "/events"));
es.onmessage = function (e) {
  document.getElementById("time").textContent = e.data;
  document.getElementById("n").textContent = ++n;
};
</script>
</body></html>
]]

local app = Router()

app:get("/", function(environ, start_response)
  return Response.html(PAGE)(environ, start_response)
end)

app:get("/events", function(environ, start_response)
  local req = Request(environ)
  local every = tonumber(req.args.every) or 1
  local count = tonumber(req.args.count)
  local first = (tonumber(req.headers["Last-Event-ID"]) or 0) + 1
  start_response("200 OK", {
    { "Content-Type", "text/event-stream" },
    { "Cache-Control", "no-store" },
    { "X-Accel-Buffering", "no" }, -- nginx: pass each event on at once
  })
  return coroutine.wrap(function()
    coroutine.yield("retry: 2000\n\n")
    local id = first
    while count == nil or id < first + count do
      -- Room for this event and the wait after it; false once the host's
      -- maximum is reached: end the stream, the browser reconnects.
      if not lsgi.extend_deadline(every + 5) then return end
      coroutine.yield(("id: %d\ndata: %s\n\n"):format(id, os.date("!%Y-%m-%d %H:%M:%S UTC")))
      id = id + 1
      if count ~= nil and id >= first + count then return end
      if not lsgi.sleep(every) then return end
    end
  end)
end)

return app
