-- A module of the pkg plugin.
local M = {}

function M.text()
  return "hello from a module"
end

return M
