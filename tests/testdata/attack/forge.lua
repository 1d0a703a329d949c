-- Finding 6: an app that tries to write a line of the host's log of its
-- own, through every output it has.
return function(environ, start_response)
  local forged = '\ntime=2001-01-01T00:00:00.000Z level=ERROR msg="forged by an app"\n'
  print("hello" .. forged)
  io.write("hello" .. forged)
  environ["lsgi.errors"]:write("hello" .. forged)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {tostring(_printregs) .. "\n"}
end
