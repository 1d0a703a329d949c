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
	data        *string
	db          *string
	dbMaxRows   *int
	dbMaxBytes  *int64
	httpAllow   *string
	httpMaxBody *int64
	httpTimeout *time.Duration
}

// addSQLFlags defines the flags of lsgi.db and lsgi.http on fs.
func addSQLFlags(fs *flag.FlagSet) *sqlFlags {
	return &sqlFlags{
		data:        fs.String("data", appdb.DefaultDataDir, "data `folder`: each app's SQLite database (lsgi.db) is NAME.db there; created on first use"),
		db:          fs.String("db", "", "a postgres:// `URL`: lsgi.db uses PostgreSQL, one schema per app (app_NAME), instead of SQLite files"),
		dbMaxRows:   fs.Int("db-max-rows", appdb.DefaultMaxRows, "most rows one db.query may return"),
		dbMaxBytes:  fs.Int64("db-max-bytes", appdb.DefaultMaxBytes, "most bytes of values one db.query may return"),
		httpAllow:   fs.String("http-allow", "", "comma-separated `patterns` of the hosts lsgi.http may reach (names, *.domain, *, addresses, CIDR); internal addresses only when an address pattern covers them"),
		httpMaxBody: fs.Int64("http-max-body", outbound.DefaultMaxBody, "largest response body lsgi.http reads whole, in bytes"),
		httpTimeout: fs.Duration("http-timeout", outbound.DefaultTimeout, "default time limit of one lsgi.http request (the request's own deadline still applies)"),
	}
}

// services builds the host's services from the parsed flags. The caller
// closes them after the host.
func (f *sqlFlags) services(logger *slog.Logger) (*lualib.Services, error) {
	db, err := appdb.New(appdb.Config{
		DataDir:  *f.data,
		URL:      *f.db,
		MaxRows:  *f.dbMaxRows,
		MaxBytes: *f.dbMaxBytes,
		Logger:   logger,
	})
	if err != nil {
		return nil, err
	}
	client, err := outbound.New(outbound.Config{
		Allow:   strings.Split(*f.httpAllow, ","),
		MaxBody: *f.httpMaxBody,
		Timeout: *f.httpTimeout,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("-http-allow: %w", err)
	}
	if db.Kind() == appdb.Postgres {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			// Apps that do not use lsgi.db serve anyway; those that do get
			// an error until PostgreSQL answers.
			logger.Warn("PostgreSQL does not answer yet", "err", err)
		}
	}
	return &lualib.Services{DataDir: *f.data, DB: db, HTTP: client}, nil
}
