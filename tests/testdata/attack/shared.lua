-- Finding 8: a single-file plugin that reaches into a folder app's private
-- module, which --isolate forbids.
local ok, posts = pcall(require, "blog.posts")
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {ok and posts.secret or "refused", "\n"}
end
