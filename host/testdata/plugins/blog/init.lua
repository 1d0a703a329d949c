local posts = require("posts")
return function(environ, start_response)
  start_response("200 OK", {})
  return { posts.title(environ.PATH_INFO) }
end
