-- Runs one Lua 5.1 case file and returns what it printed, one line per
-- print call; an uncaught error ends the output with "error: MESSAGE".
-- The same harness runs under lua5.1 (ref.lua) and inside an LSGI app
-- (app.lua), so that both sides see the case through the same code.
return function(file)
  local out = {}
  local saved = print
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do
      parts[i] = tostring((select(i, ...)))
    end
    out[#out + 1] = table.concat(parts, "\t")
  end
  local ok, err = pcall(dofile, file)
  print = saved
  if not ok then
    out[#out + 1] = "error: " .. tostring(err)
  end
  return table.concat(out, "\n") .. "\n"
end
