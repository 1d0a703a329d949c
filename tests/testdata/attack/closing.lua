-- Finding 4: result:close() running a backtracking pattern, which once ran
-- far past every bound. The step budget stops it; the error is logged.
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return setmetatable({"body\n"}, {__index = {close = function()
    string.find(string.rep("a", 350), ".-.-.-b")
  end}})
end
