-- A plugin that fails to load: its mount answers 500.
error("broken on purpose")
