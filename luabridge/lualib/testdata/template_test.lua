local check = require "check"
local gotest = require "gotest"
local template = require "lsgi.template"
local json = require "json"

local T = {}

function T.test_render_escapes_hostile_values()
  local hostile = [[<script>alert("x")</script>' onmouseover='a&b]]
  local out = template.render("templates/page.html", { name = hostile, items = { "<b>one</b>", "two" }, count = 3 })
  check.lacks(out, "<script>alert", "no raw script tag")
  check.contains(out, [[title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39; onmouseover=&#39;a&amp;b"]],
    "no attribute break-out")
  check.contains(out, "<h1>Hello, &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39; onmouseover=&#39;a&amp;b!</h1>")
  check.contains(out, 'href="/users?name=%3cscript%3ealert', "URL context is percent-encoded")
  check.contains(out, "var user = \"\\u003cscript\\u003e", "JS context is a JSON string")
  check.contains(out, "<li>&lt;b&gt;one&lt;/b&gt;</li><li>two</li>")
  check.contains(out, "<p>three items</p>", "integral numbers compare with template integers")
end

function T.test_missing_template()
  check.raises(function() template.render("templates/nope.html", {}) end, "nope.html")
  check.raises(function() template.render("/etc/passwd", {}) end, "not a path inside the app's folder")
  check.raises(function() template.render("../secret.txt", {}) end, "not a path inside")
  check.raises(function() template.render("templates/broken.html", {}) end, "broken.html")
  check.no(template.exists("templates/nope.html"))
  check.ok(template.exists("templates/page.html"))
end

function T.test_template_edited_on_disk()
  gotest.write("templates/live.html", "<p>version one {{.v}}</p>")
  check.eq(template.render("templates/live.html", { v = "a" }), "<p>version one a</p>")
  -- Same size, rewritten at once: only the content tells the versions apart.
  gotest.write("templates/live.html", "<p>version two {{.v}}</p>")
  check.eq(template.render("templates/live.html", { v = "b" }), "<p>version two b</p>")
  -- An older file with a new modification time.
  gotest.write("templates/old.html", "old {{.v}}", os.time() - 3600)
  check.eq(template.render("templates/old.html", { v = 1 }), "old 1")
  gotest.write("templates/old.html", "new {{.v}}", os.time() - 1800)
  check.eq(template.render("templates/old.html", { v = 2 }), "new 2")
  -- A file that becomes broken reports the parse error; fixing it works again.
  gotest.write("templates/old.html", "{{.v", os.time() - 1700)
  check.raises(function() template.render("templates/old.html", { v = 3 }) end, "old.html")
  gotest.write("templates/old.html", "fixed {{.v}}", os.time() - 1600)
  check.eq(template.render("templates/old.html", { v = 4 }), "fixed 4")
end

function T.test_layout_and_blocks()
  local out = template.render({ "templates/layout.html", "templates/child.html" }, { site = "LSGI", text = "<hi>" })
  check.eq(out, "<html><head><title>Child of LSGI</title></head><body><p>&lt;hi&gt;</p></body></html>\n")
end

function T.test_data_conversion()
  gotest.write("templates/data.html", "{{.n}} {{.f}} {{.b}} {{len .list}} {{.map.k}} {{.null}}|{{.missing}}|{{index .list 1}} {{.nested.a.b}}", os.time() - 100)
  local out = template.render("templates/data.html", {
    n = 42, f = 1.5, b = true, list = { "x", "y" }, map = { k = "v" }, null = json.null,
    nested = { a = { b = "deep" } },
  })
  check.eq(out, "42 1.5 true 2 v ||y deep", "json.null and missing keys print nothing")
  check.raises(function() template.render("templates/data.html", { f = function() end }) end, "function")
  local cyc = {}
  cyc.self = cyc
  check.raises(function() template.render("templates/data.html", cyc) end, "contains itself")
end

return T
