-- The same echo as echo.lua, mounted at /: a single-file plugin can
-- require the other files of the plugins folder.
return require("echo")
