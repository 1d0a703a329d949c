-- A plugin that raises while it is loaded, on line 2.
error("failure while loading")
