-- pl.template: Lua text templates (Penlight manual, "Another Style of
-- Template").
local template = require "pl.template"

local tmpl = [[
<ul>
# for i, item in ipairs(items) do
  <li>$(i): $(item.name)</li>
# end
</ul>
$(title)]]
print(template.substitute(tmpl, { _parent = _G, items = { { name = "one" }, { name = "two" } }, title = "Items" }))

local compiled = assert(template.compile("Hello $(name)! {{$(1 + 2)}}", { chunk_name = "greeting" }))
print(compiled:render { name = "Ann" })
print(compiled:render({ name = "Bob" }, _G))

local custom = template.compile("@{x} and @{y}", { inline_escape = "@", inline_brackets = "{}" })
print(custom:render { x = 1, y = "two" })

local broken, err = template.compile("$(", { chunk_name = "broken" })
print(type(broken), err ~= nil)
local failing = template.compile("$(nothing.field)", { chunk_name = "failing" })
local out, rerr = failing:render({}, _G)
print(out, rerr ~= nil)
