-- Multiple assignment evaluates every expression before assigning
-- (yuin/gopher-lua#440). One fact per line.

do local a, b = 1, 2; a, b = b, a; print("swap", a, b) end
do local x, y = 1, 2; x, y = x + 1, x + y; print("arith", x, y) end
do local a, b, c = 1, 2, 3; a, b, c = c, a, b; print("rotate", a, b, c) end
do local a, b = 1, 2; a, b = b .. a, a .. b; print("concat", a, b) end
do local a, b = true, false; a, b = b and a, a or b; print("logic", a, b) end
do local a, b = 1, nil; a, b = b, a; print("nil", a, b) end
do local a, b = 1, 2; a, b = -b, -a; print("unm", a, b) end
do local a, b = 1, 2; a, b = not b, not a; print("not", a, b) end
do local a, b = "ab", "cde"; a, b = #b, #a; print("len", a, b) end
do local a, b = 1, 2; a, b = b == a, a < b; print("compare", a, b) end
do local a, b = 1, 2; a, b = (b), (a); print("paren", a, b) end
do local a, b = 1, 2; a, b = b, a, "extra"; print("extra", a, b) end
do local a, b = 1, 2; a, b = b; print("fewer", a, b) end
do local a, b = 1, 2; a, b = b + a * b - a, a % b; print("expr", a, b) end
do local a, b = 1, 2; a, b = b, a; a, b = b, a; print("twice", a, b) end
do local s, n = "x", 3; s, n = s:rep(n), #s; print("method", s, n) end
do local a, b = 1, 2; a, b = b > a and a or b, a; print("ternary", a, b) end

-- Tables and keys of the targets.
do local t = {1, 2}; local i, j = 1, 2; t[i], t[j] = t[j], t[i]; print("table swap", t[1], t[2]) end
do local t = {a = 1, b = 2}; t.a, t.b = t.b, t.a; print("field swap", t.a, t.b) end
do local t = {10, 20, 30}; local i = 1; i, t[i] = i + 1, 99; print("key before", i, t[1], t[2]) end
do local t = {10, 20, 30}; local i = 1; t[i], i = 99, i + 1; print("key after", i, t[1], t[2]) end
do local t, u = {}, {}; local x = t; x, x[1] = u, 5; print("table before", t[1], u[1]) end
do local t, u = {}, {}; local x = t; x[1], x = 5, u; print("table after", t[1], u[1]) end
do local t = {}; local a = 5; a, t[a] = 1, 2; print("key local", a, t[5], t[1]) end
do local a, b = 1, 2; local t = {a = a}; t.a, b = b, t.a; print("field and local", t.a, b) end
do local a = 1; local t = {}; t[1], a = a, 5; print("value then local", t[1], a) end
do local a = 1; local t = {}; a, t[1] = 5, a; print("local then value", t[1], a) end
do local t = {}; local k = {}; t[k], k = 1, 2; print("table key", t[k], k) end
do local t = {n = {}}; t.n.v, t.n = 1, 2; print("nested", t.n) end

-- Same target twice: assigned right to left.
do local a = 1; a, a = 2, 3; print("dup local", a) end
do local t = {}; t.x, t.x = 1, 2; print("dup field", t.x) end
do g1 = 0; g1, g1 = 1, 2; print("dup global", g1) end

-- Calls on the right see no assignment yet.
do local a = 1; local function f() return a end; a, b1 = 2, f(); print("call sees old", a, b1) end
do local a = 1; local function f() a = 100; return 0 end; a, b1 = 7, f(); print("call writes", a, b1) end
do local a, b = 1, 2; local function f() return 10, 20 end; a, b = f(); print("multret", a, b) end
do local a, b, c = 1, 2, 3; local function f(...) return ... end; a, b, c = c, f(a, b); print("varcall", a, b, c) end
do local function v(...) local a, b, c = 1, 2, 3; a, b, c = c, ...; return a, b, c end; print("vararg", v(8, 9)) end
do local a, b = 1, 2; a, b = function() return b end, a; print("closure", a(), b) end

-- Globals and upvalues.
do g1, g2 = 1, 2; g1, g2 = g2, g1; print("globals", g1, g2) end
do g1, g2 = 1, 2; g1, g2 = g1 + 1, g1 + g2; print("global arith", g1, g2) end
do local u1, u2 = 1, 2; local function f() u1, u2 = u2, u1 end; f(); print("upvalues", u1, u2) end
do local u1, u2 = 1, 2; local function f() u1, u2 = u1 + 1, u1 + u2 end; f(); print("upvalue arith", u1, u2) end
do local a = 1; g1 = 2; a, g1 = g1, a; print("local and global", a, g1) end

-- Metamethods see the assignments in Lua's order.
do
  local log = {}
  local t = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k .. "=" .. tostring(v); rawset(t, k, v) end})
  t.a, t.b, t.c = 1, 2, 3
  print("newindex order", table.concat(log, " "))
end
do
  local log = {}
  local t = setmetatable({}, {__index = function(t, k) log[#log + 1] = k; return k end})
  local a, b
  a, b = t.x, t.y
  print("index order", table.concat(log, " "), a, b)
end

-- In loops and nested functions.
do
  local a, b = 0, 1
  for i = 1, 10 do a, b = b, a + b end
  print("fibonacci", a, b)
end
do
  local function gcd(m, n) while n ~= 0 do m, n = n, m % n end return m end
  print("gcd", gcd(1071, 462))
end
do
  local t = {5, 3, 8, 1, 9, 2}
  for i = 1, #t do
    for j = i + 1, #t do
      if t[j] < t[i] then t[i], t[j] = t[j], t[i] end
    end
  end
  print("sorted", table.concat(t, " "))
end
