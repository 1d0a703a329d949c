-- Raises before start_response; the message must reach the log, not the
-- client.
return function(environ, start_response)
  error("secret-boom-" .. (environ.QUERY_STRING:match("id=(%w+)") or "none"))
end
