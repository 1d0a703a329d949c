-- %q writes a string that Lua 5.1 reads back: only '"', '\\', newline,
-- carriage return and NUL are escaped, as Lua 5.1 does.
local samples = {
  "plain", "", 'a "quoted" word', "back\\slash", "new\nline", "cr\rlf\r\n",
  "nul\0byte", "\0", "\1\2\3\127", "\200\255", "tab\tend", "]]", "1\0002",
}
for i, s in ipairs(samples) do
  local q = string.format("%q", s)
  local back = loadstring("return " .. q)()
  print(i, #q, back == s, (q:gsub("[^%w%p ]", function(c) return "<" .. c:byte() .. ">" end)))
end
print(string.format("%q", 1/3), string.format("%q", 10), string.format("%10q|", "a"))
print(string.format("%q%s", 'x"y', "z"))
print(pcall(string.format, "%q", {}))
print(pcall(string.format, "%q", nil))
