-- Each path runs one call that would exhaust the host without the limits
-- of docs/SECURITY.md; each must end in a catchable error naming its
-- limit (the app lets it through, so the client gets a 500).
local json = require "lsgi.json"
local template = require "lsgi.template"

local function shared(n)
  local t = {1}
  for i = 1, n do t = {t, t} end
  return t
end

local bombs = {
  ["/rep40"] = function() return string.rep("x", 2^40) end,
  ["/rep1e9"] = function() return string.rep("x", 1e9) end,
  ["/read40"] = function(environ) return environ["lsgi.input"]:read(2^40) or "" end,
  ["/json"] = function() return json.encode(shared(25)) end,
  ["/template"] = function() return template.render("templates/page.html", shared(25)) end,
  ["/concat"] = function()
    local piece, t = string.rep("x", 2^20), {}
    for i = 1, 100 do t[i] = piece end
    return table.concat(t)
  end,
  ["/format"] = function()
    local s = string.rep("x", 40 * 2^20)
    return string.format("%s%s", s, s)
  end,
  ["/caught"] = function()
    local ok, err = pcall(string.rep, "x", 2^40)
    return "caught: " .. tostring(not ok) .. " " .. err
  end,
}

return function(environ, start_response)
  local bomb = bombs[environ.PATH_INFO]
  if not bomb then
    start_response("404 Not Found", {{"Content-Type", "text/plain"}})
    return {"no such bomb\n"}
  end
  local body = bomb(environ)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {body}
end
