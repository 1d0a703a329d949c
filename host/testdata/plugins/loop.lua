return function(environ, start_response) while true do end end
