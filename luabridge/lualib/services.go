package lualib

import (
	"errors"
	"fmt"
	"sync"

	"github.com/lsgi/lsgi/dict"
)

// Services are the host's long-lived resources behind the toolkit's data
// modules: shared dictionaries, SQL databases, outbound HTTP, secrets and
// settings. One Services value serves every app of a host and outlives
// every app version, so that what an app keeps there survives reloads;
// each module keeps one app's data apart from another's by the app's name
// ([Options.App]).
//
// The zero value is ready to use; the creator of a Services (lsgi serve,
// or a Go program embedding the host) releases it with [Services.Close]
// after the host has stopped. Set the fields before the host starts and
// leave them alone afterwards.
//
// # Thread safety
//
// A Services is safe for concurrent use by every Lua state of every app.
type Services struct {
	// Shared is the store of lsgi.shared's dictionaries (and of
	// lsgi.session's data). Nil means an in-memory store, made on first
	// use. Close closes it.
	Shared dict.Store
	// SharedDicts are the host-wide dictionaries, by name, with their size
	// in bytes (0 for the store's default): every app reaches them as
	// require("lsgi.shared").global.NAME. No other dictionary is shared
	// between apps.
	SharedDicts map[string]int64

	// Secret is the host's secret key: lsgi.session signs its cookies,
	// and lsgi.config.secret derives each app's keys, with keys made from
	// it. Nil means the secret kept in DataDir/secret, generated (32
	// random bytes) and written there with mode 0600 on first use.
	Secret []byte
	// DataDir is the host's data folder, made on first use; "" means
	// "data" in the working directory.
	DataDir string

	// Env are the environment variables apps may read through
	// lsgi.config.env, by name, taken from the host's environment when it
	// starts ([SnapshotEnv]).
	Env map[string]string
	// EnvAllow are the names apps may read besides those in Env (then
	// unset: lsgi.config.env gives nil): a name, or a prefix ending in
	// "*" (lsgi serve --env NAME,PREFIX_*). Reading any other name raises
	// a Lua error that tells the operator what to allow.
	EnvAllow []string

	sharedOnce  sync.Once
	sharedStore dict.Store

	secretMu sync.Mutex
	secret   []byte
}

// Close releases the resources the services hold. It is safe to call on a
// nil Services.
func (s *Services) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	// Never used: a closed empty store, so that a late call fails cleanly.
	s.sharedOnce.Do(func() {
		s.sharedStore = s.Shared
		if s.sharedStore == nil {
			s.sharedStore = dict.NewMemory(dict.Options{})
		}
	})
	if err := s.sharedStore.Close(); err != nil {
		errs = append(errs, fmt.Errorf("lualib: close the shared store: %w", err))
	}
	return errors.Join(errs...)
}

// store returns the dictionaries' store, making the in-memory one on first
// use when none was given.
func (s *Services) store() dict.Store {
	s.sharedOnce.Do(func() {
		s.sharedStore = s.Shared
		if s.sharedStore == nil {
			s.sharedStore = dict.NewMemory(dict.Options{})
		}
	})
	return s.sharedStore
}

// dataDir returns the data folder.
func (s *Services) dataDir() string {
	if s.DataDir == "" {
		return "data"
	}
	return s.DataDir
}
