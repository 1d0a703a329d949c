-- check: assertions for the Lua tests. Each raises an error naming the
-- caller's line when it fails; the Go harness reports it with the traceback.
local M = {}

local function repr(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    if #v > 200 then v = v:sub(1, 200) .. "..." end
    return string.format("%q", v)
  end
  if type(v) == "table" and depth < 3 then
    local parts = {}
    local n = 0
    for k, val in pairs(v) do
      n = n + 1
      if n > 20 then parts[#parts + 1] = "..."; break end
      parts[#parts + 1] = "[" .. repr(k, depth + 1) .. "]=" .. repr(val, depth + 1)
    end
    table.sort(parts)
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end
M.repr = repr

local function fail(msg, what)
  error((what and (what .. ": ") or "") .. msg, 3)
end

function M.eq(got, want, what)
  if got ~= want then fail("expected " .. repr(want) .. ", got " .. repr(got), what) end
end

function M.ne(got, unwanted, what)
  if got == unwanted then fail("did not expect " .. repr(got), what) end
end

function M.ok(v, what)
  if not v then fail("expected a true value, got " .. repr(v), what) end
  return v
end

function M.no(v, what)
  if v then fail("expected a false value, got " .. repr(v), what) end
end

local function deep(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

function M.same(got, want, what)
  if not deep(got, want) then fail("expected " .. repr(want) .. ", got " .. repr(got), what) end
end

function M.contains(s, part, what)
  if type(s) ~= "string" or not s:find(part, 1, true) then
    fail("expected " .. repr(s) .. " to contain " .. repr(part), what)
  end
end

function M.lacks(s, part, what)
  if type(s) == "string" and s:find(part, 1, true) then
    fail("expected " .. repr(s) .. " not to contain " .. repr(part), what)
  end
end

function M.matches(s, pattern, what)
  if type(s) ~= "string" or not s:find(pattern) then
    fail("expected " .. repr(s) .. " to match " .. repr(pattern), what)
  end
end

-- raises calls fn and expects an error; when part is given, the error's
-- text must contain it. Returns the error value.
function M.raises(fn, part, what)
  local ok, err = pcall(fn)
  if ok then fail("expected an error" .. (part and (" containing " .. repr(part)) or ""), what) end
  if part and not tostring(err):find(part, 1, true) then
    fail("expected an error containing " .. repr(part) .. ", got " .. repr(tostring(err)), what)
  end
  return err
end

return M
