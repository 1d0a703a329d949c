package lualib

// Services are the host's long-lived resources behind the toolkit's data
// modules: shared dictionaries, SQL databases, outbound HTTP, secrets and
// settings. One Services value serves every app of a host and outlives
// every app version, so that what an app keeps there survives reloads;
// each module keeps one app's data apart from another's by the app's name
// ([Options.App]).
//
// The zero value is ready to use; the creator of a Services (lsgi serve,
// or a Go program embedding the host) releases it with [Services.Close]
// after the host has stopped.
//
// # Thread safety
//
// A Services is safe for concurrent use by every Lua state of every app.
type Services struct{}

// Close releases the resources the services hold. It is safe to call on a
// nil Services.
func (s *Services) Close() error { return nil }
