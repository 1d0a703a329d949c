-- A plugin that returns something that is not an app.
return 42
