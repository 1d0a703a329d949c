-- Calls of string.find, string.match, string.gmatch and string.gsub whose
-- output must be the same under LSGI's string library and under lua5.1.
-- The host defines emit(line); lua5.1 runs it with emit = print.

local function show(v)
  if type(v) ~= "string" then return tostring(v) end
  local t = {}
  for i = 1, #v do
    local b = v:byte(i)
    if b < 32 or b > 126 or b == 34 or b == 92 then t[i] = "\\" .. b else t[i] = string.char(b) end
  end
  return '"' .. table.concat(t) .. '"'
end

local function line(label, ...)
  local t = {label}
  for i = 1, select("#", ...) do t[#t + 1] = show((select(i, ...))) end
  emit(table.concat(t, " "))
end

local function try(label, f, ...)
  line(label, pcall(f, ...))
end

-- find and match
try("find", string.find, "hello world", "o w")
try("find class", string.find, "hello 123 world", "%d+")
try("find captures", string.find, "key = value", "(%w+)%s*=%s*(%w+)")
try("find init", string.find, "abcabc", "b", 3)
try("find init negative", string.find, "abcabc", "b", -2)
try("find init string", string.find, "abcabc", "b", "3")
try("find init float", string.find, "abcabc", "b", 2.9)
try("find plain", string.find, "a.b.c", ".", 1, true)
try("find plain zero", string.find, "a.b", ".", 1, 0)
try("find empty past end", string.find, "abc", "", 10)
try("find number subject", string.find, 12345, 34)
try("find frontier", string.find, "THE (quick) fox", "%f[%a]%a+", 5)
try("match trim", string.match, "   padded   ", "^%s*(.-)%s*$")
try("match positions", string.match, "hello", "()ll()")
try("match date", string.match, "2024-02-29", "(%d+)-(%d+)-(%d+)")
try("match backref", string.match, "x = 'it''s'", "(['\"])(.-)%1")
try("match balance", string.match, "call(f(x), y) + 1", "%b()")
try("match none", string.match, "abc", "%d")
try("match zero byte ends pattern", string.match, "a\0b", "b\0")
try("method call", function() return ("THE (quick) fox"):match("%f[%a]%a+", 2) end)

-- errors, from pcall directly and from Lua code
try("error ends with percent", string.find, "a", "%")
try("error missing bracket", string.match, "a", "[a")
try("error unfinished capture", string.find, "a", "(a")
try("error invalid pattern capture", string.match, "a)", "a)")
try("error capture index", string.find, "aa", "(a)%2")
try("error frontier", string.find, "a", "%fa")
try("error balance", string.find, "a", "%b")
try("error too many captures", string.match, "a", string.rep("()", 33))
try("error from a line", function() return string.find("a", "%") end)
try("error from a method", function() return ("a"):gsub("(", "") end)

-- gmatch
line("gmatch values", select("#", string.gmatch("abc", ".")))
do
  local words = {}
  for w in string.gmatch("one two  three", "%a+") do words[#words + 1] = w end
  line("gmatch words", table.concat(words, ","))
  local pairs_ = {}
  for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do pairs_[#pairs_ + 1] = k .. ":" .. v end
  line("gmatch pairs", table.concat(pairs_, ","))
  local n = 0
  for _ in string.gmatch("abc", "") do n = n + 1 end
  line("gmatch empty", n)
  local anchored = {}
  for a in string.gmatch("^a^a", "^a") do anchored[#anchored + 1] = a end
  line("gmatch caret", table.concat(anchored, ","))
  local pos = {}
  for p in string.gmatch("abc", "()") do pos[#pos + 1] = p end
  line("gmatch positions", table.concat(pos, ","))
  local it = string.gmatch("ab", "%a")
  line("gmatch after end", it(), it(), it(), it())
  line("gmatch gfind", string.gfind ~= nil)
  try("gmatch error", function() for _ in string.gmatch("abc", "[a") do end end)
end

-- gsub with a string
try("gsub spaces", string.gsub, "a  b   c", "%s+", " ")
try("gsub swap", string.gsub, "hello world", "(%w+) (%w+)", "%2 %1")
try("gsub whole", string.gsub, "abc", "%w", "<%0>")
try("gsub percent", string.gsub, "50%", "%%", "%%%%")
try("gsub max", string.gsub, "aaaa", "a", "b", 2)
try("gsub max string", string.gsub, "aaaa", "a", "b", "3")
try("gsub anchored", string.gsub, "aaa", "^a", "b")
try("gsub empty", string.gsub, "abc", "", "-")
try("gsub number replacement", string.gsub, "abc", "b", 42)
try("gsub position", string.gsub, "abc", "()", "%1")
try("gsub bad index", string.gsub, "abc", "(b)", "%2")
try("gsub trailing percent", string.gsub, "ab", "b", "%")
try("gsub frontier", string.gsub, "THE (quick) fox", "%f[%a]%a+", "X")
try("gsub method", function() return ("x y"):gsub("%a", "%0%0") end)

-- gsub with a table
try("gsub table", string.gsub, "$name is $age", "%$(%w+)", {name = "Ann", age = 42})
try("gsub table missing", string.gsub, "$name $nope", "%$(%w+)", {name = "Ann"})
try("gsub table false", string.gsub, "$a", "%$(%w+)", {a = false})
try("gsub table whole", string.gsub, "abc", "%w", {a = "1", c = 3})
try("gsub table position key", string.gsub, "abc", "()", {[2] = "X"})
try("gsub table __index", string.gsub, "abc", ".", setmetatable({}, {__index = function(_, k) return k:upper() end}))
try("gsub table bad value", string.gsub, "abc", "b", {b = {}})
try("gsub table true", string.gsub, "abc", "b", {b = true})

-- gsub with a function
try("gsub function", string.gsub, "hello world", "%w+", function(w) return w:upper() end)
try("gsub function captures", string.gsub, "a=1, b=2", "(%w+)=(%w+)", function(k, v) return v .. k end)
try("gsub function nil", string.gsub, "abc", "%w", function(c) if c == "b" then return "B" end end)
try("gsub function number", string.gsub, "abc", "b", function() return 7 end)
try("gsub function positions", string.gsub, "abc", "()(%w)", function(p, c) return c .. p end)
try("gsub function nested", string.gsub, "a b", "%a", function(c) return (string.gsub("xx", "x", c)) end)
try("gsub function bad value", string.gsub, "abc", "b", function() return {} end)
try("gsub function error", function()
  return string.gsub("abc", "b", function() error("boom") end)
end)
local ok, err = pcall(string.gsub, "abc", "b", function() error({code = 7}) end)
line("gsub error object kept", ok, type(err), type(err) == "table" and err.code)
