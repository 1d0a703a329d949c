-- An array with a hole: the body ends at the first nil.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  local t = {}
  t[1] = "a"
  t[3] = "c"
  return setmetatable(t, {__len = function() return 3 end})
end
