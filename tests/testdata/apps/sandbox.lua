-- Reports which parts of the standard library an app can reach, as
-- "name=value;" pairs.
local function probe(name, value, out)
  out[#out + 1] = name .. "=" .. tostring(value) .. ";"
end

return function(environ, start_response)
  local out = {}
  probe("io.open", (io.open("/etc/hostname")), out)
  probe("io.popen", (io.popen("id")), out)
  probe("io.lines", (pcall(io.lines, "/etc/hostname")), out)
  probe("debug.sethook", type(debug.sethook), out)
  probe("debug.getinfo", type(debug.getinfo), out)
  probe("os.execute", type(os.execute), out)
  probe("os.getenv HOME", os.getenv("HOME"), out)
  probe("os.remove", type(os.remove), out)
  probe("os.exit", (pcall(os.exit, 0)), out)
  probe("_printregs", type(_printregs), out)
  probe("os.time", type(os.time), out)
  probe("os.clock", type(os.clock), out)
  probe("os.date", type(os.date), out)
  probe("os.difftime", type(os.difftime), out)
  probe("string", type(string), out)
  probe("table", type(table), out)
  probe("math", type(math), out)
  probe("coroutine", type(coroutine), out)
  probe("require", type(require), out)
  probe("dofile /etc/hostname", (pcall(dofile, "/etc/hostname")), out)
  local ok, f = pcall(loadfile, "/etc/hostname")
  probe("loadfile /etc/hostname", ok and f ~= nil, out)
  probe("require io", require("io") == io, out)
  probe("require os.execute", (pcall(function() return require("os").execute end) and require("os").execute ~= nil), out)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {table.concat(out)}
end
