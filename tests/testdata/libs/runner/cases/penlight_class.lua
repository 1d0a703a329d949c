-- pl.class: classes with inheritance (Penlight manual, "Simplifying
-- Object-Oriented Programming in Lua").
local class = require "pl.class"

local Animal = class()
function Animal:_init(name) self.name = name end
function Animal:__tostring() return self.name .. ": " .. self:speak() end
function Animal:speak() return "..." end

local Dog = class(Animal)
function Dog:speak() return "woof" end

local Cat = class(Animal)
function Cat:_init(name, breed)
  self:super(name)
  self.breed = breed
end
function Cat:speak() return "meow" end

local fido, felix = Dog("fido"), Cat("felix", "tabby")
print(fido, felix, felix.breed)
print(fido:is_a(Animal), fido:is_a(Cat), Dog:class_of(fido), Animal:class_of(felix), Cat:class_of(fido))
print(Cat._base == Animal, fido._class == Dog, class.Dog == nil)

class.Named()
function Named:_init(n) self.n = n end
print(Named("x").n)

local Point
Point = class {
  _init = function(self, x, y) self.x, self.y = x, y end,
  __add = function(a, b) return Point(a.x + b.x, a.y + b.y) end,
  __eq = function(a, b) return a.x == b.x and a.y == b.y end,
  __tostring = function(p) return "(" .. p.x .. "," .. p.y .. ")" end,
}
print(Point(1, 2) + Point(3, 4), Point(1, 1) == Point(1, 1))

local Props = class(class.properties)
function Props:_init() self._size = 0 end
function Props:get_size() return self._size * 10 end
function Props:set_size(v) self._size = v end
local p = Props()
p.size = 4
print(p.size, p._size)

local ok, err = pcall(Animal._init, nil, "x")
print(ok, type(err))
