-- A plugin that returns no app and defines no global application.
local x = 1
