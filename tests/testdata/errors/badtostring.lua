-- Raises an error value whose __tostring raises too.
return function(environ, start_response)
  error(setmetatable({}, {__tostring = function()
    error("__tostring fails as well")
  end}))
end
