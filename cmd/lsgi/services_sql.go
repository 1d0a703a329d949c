package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lsgi/lsgi/appdb"
	"github.com/lsgi/lsgi/luabridge/lualib"
	"github.com/lsgi/lsgi/outbound"
)

// sqlFlags are the flags of lsgi serve behind lsgi.db and lsgi.http.
type sqlFlags struct {
	fs          *flag.FlagSet
	db          *string
	dbMaxRows   *int
	dbMaxBytes  *int64
	httpAllow   *string
	httpMaxBody *int64
	httpTimeout *time.Duration
}

// addSQLFlags defines the flags of lsgi.db and lsgi.http on fs.
func addSQLFlags(fs *flag.FlagSet) *sqlFlags {
	// The data folder is shared with the other data services, which may
	// define it first.
	if fs.Lookup("data") == nil {
		fs.String("data", appdb.DefaultDataDir, "data `folder` of the apps' SQLite databases (lsgi.db: NAME.db) and other data, made on first use")
	}
	return &sqlFlags{
		fs:          fs,
		db:          fs.String("db", "", "a postgres:// `URL`: lsgi.db uses PostgreSQL, one schema per app (app_NAME), instead of SQLite files"),
		dbMaxRows:   fs.Int("db-max-rows", appdb.DefaultMaxRows, "most rows one db.query may return"),
		dbMaxBytes:  fs.Int64("db-max-bytes", appdb.DefaultMaxBytes, "most bytes of values one db.query may return"),
		httpAllow:   fs.String("http-allow", "", "comma-separated `patterns` of the hosts lsgi.http may reach (names, *.domain, *, addresses, CIDR); internal addresses only when an address pattern covers them"),
		httpMaxBody: fs.Int64("http-max-body", outbound.DefaultMaxBody, "largest response body lsgi.http reads whole, in bytes"),
		httpTimeout: fs.Duration("http-timeout", outbound.DefaultTimeout, "default time limit of one lsgi.http request (the request's own deadline still applies)"),
	}
}

// fill sets the database and the HTTP client of s from the parsed flags; s
// owns them from then on, and closes them with its Close. An error is a
// flag's value that cannot be used.
func (f *sqlFlags) fill(s *lualib.Services, logger *slog.Logger) error {
	data := f.fs.Lookup("data").Value.String()
	if s.DataDir == "" {
		s.DataDir = data
	}
	db, err := appdb.New(appdb.Config{
		DataDir:  data,
		URL:      *f.db,
		MaxRows:  *f.dbMaxRows,
		MaxBytes: *f.dbMaxBytes,
		Logger:   logger,
	})
	if err != nil {
		return fmt.Errorf("-db: %w", err)
	}
	client, err := outbound.New(outbound.Config{
		Allow:   strings.Split(*f.httpAllow, ","),
		MaxBody: *f.httpMaxBody,
		Timeout: *f.httpTimeout,
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("-http-allow: %w", err)
	}
	if db.Kind() == appdb.Postgres {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			// Apps that do not use lsgi.db serve anyway; those that do get
			// a Lua error until PostgreSQL answers.
			logger.Warn("PostgreSQL does not answer yet", "err", err)
		}
	}
	s.DB, s.HTTP = db, client
	return nil
}
