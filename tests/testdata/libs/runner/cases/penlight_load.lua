-- Every Penlight module loads (pl.strict and pl.init are left out: they
-- change _G for every later case of the same Lua state).
local modules = {
  "app", "array2d", "class", "compat", "comprehension", "config", "data", "Date", "dir", "file",
  "func", "import_into", "input", "lapp", "lexer", "List", "luabalanced", "Map", "MultiMap",
  "operator", "OrderedMap", "path", "permute", "pretty", "seq", "Set", "sip", "stringio",
  "stringx", "tablex", "template", "test", "text", "types", "url", "utils", "xml",
}
for _, name in ipairs(modules) do
  local ok, err = pcall(require, "pl." .. name)
  print(name, ok and "loads" or ("fails: " .. tostring(err):match("^[^\n]*")))
end
