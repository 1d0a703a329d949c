-- The lfs stand-in, over the fixture's app folder (testdata/app plus the
-- links lua_test.go adds: static/escape.txt and static/absolute.txt lead
-- outside the folder, static/up.txt and static/alias.css stay inside).
local check = require "check"
local gotest = require "gotest"
local lfs = require "lfs"

local T = {}

function T.test_attributes_of_a_file()
  local a = lfs.attributes("static/hello.txt")
  check.eq(a.mode, "file")
  check.eq(a.size, #"hello, static world\n")
  check.eq(a.modification, gotest.mtime("static/hello.txt"))
  check.eq(a.access, a.modification)
  check.matches(a.permissions, "^[r-][w-][x-][r-][w-][x-][r-][w-][x-]$")
  check.eq(a.ino, nil, "what an fs.FS cannot tell is nil")
end

function T.test_attributes_request_one_name_or_fill_a_table()
  check.eq(lfs.attributes("static", "mode"), "directory")
  check.eq(lfs.attributes("./static/hello.txt", "mode"), "file")
  check.eq(lfs.attributes("static/hello.txt", "ino"), nil)
  local t = { keep = true }
  check.eq(lfs.attributes("static/hello.txt", t), t)
  check.eq(t.mode, "file")
  check.eq(t.keep, true)
  check.raises(function() lfs.attributes("static", "colour") end, "invalid attribute name 'colour'")
end

function T.test_the_folder_itself()
  check.eq(lfs.attributes(".", "mode"), "directory")
  check.eq(lfs.attributes(lfs.currentdir(), "mode"), "directory")
  check.eq(lfs.attributes("static/..", "mode"), "directory")
end

function T.test_missing_file()
  local a, msg, errno = lfs.attributes("static/nope.txt")
  check.eq(a, nil)
  check.eq(msg, "cannot obtain information from file 'static/nope.txt': No such file or directory")
  check.eq(errno, 2)
end

function T.test_paths_outside_the_folder_are_refused()
  local cases = {
    { "../outside-secret.txt", "outside the app's folder" },
    { "/etc/passwd", "outside the app's folder" },
    { "static/../../outside-secret.txt", "outside the app's folder" },
    { "static/escape.txt", "leads out of the app's folder" },
    { "static/absolute.txt", "leads out of the app's folder" },
    { "", "No such file" },
  }
  for _, c in ipairs(cases) do
    local a, msg = lfs.attributes(c[1])
    check.eq(a, nil, c[1])
    check.contains(msg, c[2], c[1])
  end
end

function T.test_links_inside_the_folder_are_followed()
  check.eq(lfs.attributes("static/up.txt", "mode"), "file")
  check.eq(lfs.attributes("static/alias.css", "size"), lfs.attributes("static/site.css", "size"))
end

function T.test_symlinkattributes()
  local a = lfs.symlinkattributes("static/alias.css")
  check.eq(a.mode, "link")
  check.eq(a.target, "site.css")
  -- The link itself is in the folder, even when its target is not.
  check.eq(lfs.symlinkattributes("static/escape.txt", "mode"), "link")
  check.eq(lfs.symlinkattributes("static/site.css", "mode"), "file")
  check.eq(lfs.symlinkattributes("static/alias.css", "target"), "site.css")
end

function T.test_dir()
  local names = {}
  for name in lfs.dir("static/docs") do names[#names + 1] = name end
  table.sort(names)
  check.same(names, { ".", "..", "readme.txt" })
  local iter, d = lfs.dir(".")
  check.eq(type(iter), "function")
  check.ok(d:next())
  d:close()
  check.raises(function() d:next() end, "closed directory")
  check.raises(function() lfs.dir("nope") end, "cannot open nope")
  check.raises(function() lfs.dir("../") end, "outside the app's folder")
end

function T.test_chdir_and_currentdir()
  check.eq(lfs.currentdir(), ".")
  check.eq(lfs.chdir("."), true)
  check.eq(lfs.chdir("./"), true)
  local ok, msg = lfs.chdir("static")
  check.eq(ok, nil)
  check.contains(msg, "apps share the server's working directory")
  ok, msg = lfs.chdir("/tmp")
  check.eq(ok, nil)
  check.contains(msg, "outside the app's folder")
end

function T.test_writes_fail_like_lfs()
  for _, name in ipairs({ "mkdir", "rmdir", "touch", "link", "lock", "unlock", "lock_dir" }) do
    local ok, msg = lfs[name]("static/new")
    check.eq(ok, nil, name)
    check.contains(msg, "lfs." .. name .. ": apps cannot change files", name)
  end
  check.eq(lfs.attributes("static/new"), nil, "nothing was made")
  check.eq(lfs.setmode(nil, "binary"), true)
  check.contains(lfs._VERSION, "read-only")
end

return T
