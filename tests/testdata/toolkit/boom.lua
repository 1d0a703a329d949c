-- boom.lua: lsgi.middleware.errors with its default options. Served at
-- /boom. Under `lsgi serve --dev` loopback clients get a page with the
-- error and its traceback; everyone else gets a plain 500.
--   /boom/abort   Response.abort(409): a 409 with the message, for everyone
--   /boom/<x>     a Lua error whose message holds markup
local errors = require "lsgi.middleware.errors"
local Response = require "lsgi.response"

return errors(function(environ, start_response)
  if environ.PATH_INFO == "/abort" then
    Response.abort(409, "already taken")
  end
  error("kaboom <script>alert(1)</script> " .. environ.QUERY_STRING)
end)
