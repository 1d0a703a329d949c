-- wsapi.util: URL encoding and the helpers of WSAPI's libraries page.
local util = require "wsapi.util"

print(util.url_encode("a b&c=d/é\n"), util.url_decode("a+b%26c%3Dd%2F%C3%A9%0D%0A"))
print(util.url_decode(util.url_encode("round trip ~!*'()")), util.url_encode(nil))
print(util.sanitize("<b>bold</b> & more"))
print(util.not_empty(""), util.not_empty("x"), util.not_empty(nil))
local opts, args = util.getopt({ "-a", "one", "-bc", "--long=v", "--flag", "rest" }, "a")
print(opts.a, opts.b, opts.c, opts.long, opts.flag, args[1])
local env = util.make_env_get("x=1&y=2")
print(env.REQUEST_METHOD, env.QUERY_STRING, env.PATH_INFO, env.input:read())
local post = util.make_env_post("a=1&b=2", nil, "q=3")
print(post.REQUEST_METHOD, post.CONTENT_LENGTH, post.CONTENT_TYPE, post.input:read(7))
local rewind = util.make_rewindable(util.make_env_post("0123456789"))
print(rewind.input:read(4), rewind.input:read(3))
rewind.input:rewind()
print(rewind.input:read(5), rewind.REQUEST_METHOD)
