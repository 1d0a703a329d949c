-- run: runs one case script, cases/NAME.lua, and returns what it printed.
-- The same file runs under lua5.1 (tests/libs_test.go) and inside the LSGI
-- app init.lua, so that the two outputs can be compared byte for byte.
return function(name)
  local out = {}
  local function capture(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    out[#out + 1] = table.concat(parts, "\t") .. "\n"
  end
  local chunk, err = loadfile("cases/" .. name .. ".lua")
  if not chunk then return "cannot load the case: " .. tostring(err) .. "\n" end
  setfenv(chunk, setmetatable({ print = capture }, { __index = _G }))
  local ok, failure = pcall(chunk)
  if not ok then out[#out + 1] = "case failed: " .. tostring(failure) .. "\n" end
  return table.concat(out)
end
