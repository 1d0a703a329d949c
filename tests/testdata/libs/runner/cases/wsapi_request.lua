-- wsapi.request: parsing GET, POST, multipart bodies and cookies (WSAPI's
-- libraries page), over wsapi.util's mock environments.
local request = require "wsapi.request"
local util = require "wsapi.util"

local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == "table" then v = "{" .. table.concat(v, ",") .. "}" end
    out[#out + 1] = k .. "=" .. tostring(v)
  end
  return table.concat(out, " ")
end

local get = request.new(util.make_env_get("name=Ann+Lee&tag=a&tag=b&empty=&enc=%C3%A9"))
print(get.method, get.path_info, get.query_string, sorted(get.GET))
print(get.params.name, get.params.missing, get:empty_param("empty"), get:empty(" "))

local over = request.new(util.make_env_get("k=1&k=2"), { overwrite = true })
print(sorted(over.GET))

local post = request.new(util.make_env_post("user=bob&pass=x%20y", "application/x-www-form-urlencoded", "from=q"))
print(post.method, sorted(post.POST), sorted(post.GET), post.params.user, post.params.from)
print(post:parse_post())

local raw = request.new(util.make_env_post('{"json":true}', "application/json"))
print(raw.POST.post_data)

local boundary = "XyZ"
local body = table.concat({
  "--XyZ",
  'Content-Disposition: form-data; name="field"',
  "",
  "value one",
  "--XyZ",
  'Content-Disposition: form-data; name="upload"; filename="C:\\dir\\notes.txt"',
  "Content-Type: text/plain",
  "",
  "file\r\ncontent",
  "--XyZ--",
  "",
}, "\r\n")
local multi = request.new(util.make_env_post(body, "multipart/form-data; boundary=" .. boundary))
local upload = multi.POST.upload
print(multi.POST.field, upload.name, upload.size, upload.contents, upload["content-type"])

local delayed = request.new(util.make_env_post("late=1"), { delay_post = true })
print(delayed.POST.late, delayed:parse_post().late, delayed:parse_post())

local env = util.make_env_get()
env.HTTP_COOKIE = "session=abc%20def; theme=dark"
env.SCRIPT_NAME = "/app"
local withcookies = request.new(env)
print(withcookies.cookies.session, withcookies.cookies.theme, withcookies.cookies.none)
print(withcookies:link("/page", { q = "x y" }), withcookies:absolute_link("http://h/p"), withcookies:static_link("/s.css"))
print(withcookies:qs_encode({ a = "1" }, "/u"), withcookies:qs_encode({}))
