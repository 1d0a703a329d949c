-- Finding 5: memory taken one Lua operation at a time, which no size cap
-- on a single call stops. Each loop is bounded (a few GiB at most), so that
-- a host without a fence fails the test rather than the machine.
keep, cos = {}, {}
local bombs = {
  -- A string doubled each step: 2 GiB at the end.
  ["/double"] = function() local s = "x" for i = 1, 31 do s = s .. s end return #s end,
  -- 40 MiB more kept in a global at each request.
  ["/hoard"] = function() keep[#keep + 1] = string.rep("x", 40 * 2^20) .. #keep return #keep end,
  -- 500 suspended coroutines more kept at each request (about 80 KiB each).
  ["/coroutines"] = function()
    for i = 1, 500 do
      local co = coroutine.create(function() coroutine.yield() end)
      coroutine.resume(co)
      cos[#cos + 1] = co
    end
    return #cos
  end,
  -- A far index: gopher-lua's own bound would fill 6e7 array slots.
  ["/sparse"] = function() local t = {} t[6e7] = true return #t end,
  -- Far indexes in many tables, each a 4 Mi-slot array (64 MiB): 2 GiB.
  ["/arrays"] = function() local u = {} for i = 1, 32 do u[i] = {} u[i][2^22 - 1] = true end return #u end,
}
return function(environ, start_response)
  local n = bombs[environ.PATH_INFO]()
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {tostring(n) .. "\n"}
end
