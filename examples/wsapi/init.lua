-- examples/wsapi: a WSAPI app served by lsgi. Mounting it takes one line,
--   return require("lsgi.wsapi").adapt(require "greeter")
-- here with a WSAPI-style middleware put around it first.
local wsapi = require "lsgi.wsapi"
local greeter = require "greeter"

-- powered_by is WSAPI middleware: a WSAPI app that calls another one and
-- returns its status, headers and body.
local function powered_by(app)
  return function(wsapi_env)
    local status, headers, body = app(wsapi_env)
    headers["X-Powered-By"] = "WSAPI on LSGI"
    return status, headers, body
  end
end

return wsapi.adapt(powered_by(greeter.run))
