local M = {}
function M.title(path) return "post" .. path end
return M
