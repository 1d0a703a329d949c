-- A folder app with a private module and templates. /blog/page renders a
-- template the test may replace with a symbolic link.
local posts = require "posts"
local template = require "lsgi.template"
return function(environ, start_response)
  if environ.PATH_INFO == "/page" then
    local ok, out = pcall(template.render, "templates/page.html", {title = "t"})
    start_response("200 OK", {{"Content-Type", "text/plain"}})
    return {ok and out or ("refused: " .. tostring(out))}
  end
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {posts.secret, "\n"}
end
