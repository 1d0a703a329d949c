-- In default mode io writes to the log and opens nothing; what a library
-- reads at load time is there: io.stdout, io.stderr, io.write, io.type,
-- require "io" and require "debug".
print(io.type(io.stdout), io.type(io.stderr), io.type(io.stdin), io.type(42), io.type({}))
print(io.write(""), io.stdout:write(""), io.stderr:write(""), io.stdout:flush(), io.flush())
print(io.stdout:close())
print(io.close())
print(io.output() == io.stdout, io.input() == io.stdin, io.output(io.stdout) == io.stdout)
print(tostring(io.stdout):match("^file %(") ~= nil)
print(require("io") == io, require("debug") == debug, require("string") == string, package.loaded.io == io)
print(type(os.time()), type(os.clock()), type(os.date("%Y")), os.difftime(10, 4))
print(pcall(io.write, {}))
print(pcall(io.stdout.write, 42))
