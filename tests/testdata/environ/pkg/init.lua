-- A folder plugin mounted at /pkg whose app comes from its own module.
return require("dump")
