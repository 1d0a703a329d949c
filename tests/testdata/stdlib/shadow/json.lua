-- The app's own json module: require "json" finds it before the host's.
return {origin = "app"}
