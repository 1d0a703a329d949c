-- Deeply nested source is refused before it is compiled, with Lua 5.1's
-- message; what Lua 5.1 accepts still loads.
local function try(what, src)
  local f, err = loadstring(src)
  if f then print(what, "compiled") return end
  print(what, err:match("^(.-:%d+: chunk has too many syntax levels)") or "other error")
end
try("not x1e6", "return " .. string.rep("not ", 1e6) .. "x")
try("unary minus x60000", "return " .. string.rep("- ", 60000) .. "1")
try("do x100000", string.rep("do ", 100000) .. string.rep("end ", 100000))
try("parens x1000", "return " .. string.rep("(", 1000) .. "1" .. string.rep(")", 1000))
try("tables x1000", "return " .. string.rep("{", 1000) .. string.rep("}", 1000))
try("functions x300", string.rep("return function() ", 300) .. string.rep("end ", 300))
try("parens x150", "return " .. string.rep("(", 150) .. "1" .. string.rep(")", 150))
try("do x150", string.rep("do ", 150) .. string.rep("end ", 150))
try("not x150", "return " .. string.rep("not ", 150) .. "x")
try("or chain x300", "return x == 1" .. string.rep(" or x == 1", 300))
try("plus chain x500", "return 1" .. string.rep(" + 1", 500))
try("fields x200", "return a" .. string.rep(".b", 200))
try("calls x200", "return f" .. string.rep("()", 200))
try("statements x10000", string.rep("x = 1\n", 10000))
print("plus chain value", loadstring("return 1" .. string.rep(" + 1", 500))())
print("line of the limit", (select(2, loadstring("\n\n" .. string.rep("(", 300)))):match(":(%d+):"))
