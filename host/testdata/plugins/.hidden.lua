return function(e, sr) sr("200 OK", {}) return {"hidden"} end
