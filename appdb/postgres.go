package appdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// defaultPGConns bounds the host's PostgreSQL connections, for every app
// together (PostgreSQL's own default max_connections is 100).
const defaultPGConns = 20

// schemaPrefix starts the name of every app's schema, so that no app name
// can clash with public, pg_catalog or information_schema.
const schemaPrefix = "app_"

// schemaKey is where a connection's CustomData records the schema its
// search_path names.
const schemaKey = "lsgi.schema"

// pgPool is the one pool of PostgreSQL connections every app shares.
type pgPool struct {
	db *sql.DB
}

func newPGPool(cfg Config) (*pgPool, error) {
	cc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("appdb: database URL: %w", err)
	}
	db := stdlib.OpenDB(*cc)
	conns := cfg.MaxConns
	if conns <= 0 {
		conns = defaultPGConns
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &pgPool{db: db}, nil
}

// app returns the DB of one app: the shared pool and the app's schema.
func (p *pgPool) app(m *Manager, name string) (*DB, error) {
	schema := schemaPrefix + name
	if len(schema) > 63 {
		return nil, fmt.Errorf("appdb: app name %q is too long for a PostgreSQL schema name (%s, at most 63 bytes)", name, schema)
	}
	return &DB{m: m, app: name, kind: Postgres, sql: p.db, schema: schema, quoted: pgx.Identifier{schema}.Sanitize(),
		schemaLock: make(chan struct{}, 1)}, nil
}

// ensureSchema creates the app's schema on first use. A schema another
// host created at the same moment counts as created.
func (d *DB) ensureSchema(ctx context.Context) error {
	if d.schemaReady.Load() {
		return nil
	}
	// One creator at a time; the others wait no longer than their
	// context allows.
	select {
	case d.schemaLock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the creation of schema %s: %w", d.quoted, ctx.Err())
	}
	defer func() { <-d.schemaLock }()
	if d.schemaReady.Load() {
		return nil
	}
	if _, err := d.sql.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+d.quoted); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42P06" && pe.Code != "23505") {
			return fmt.Errorf("create schema %s: %w", d.quoted, err)
		}
	}
	d.schemaReady.Store(true)
	return nil
}

// pgConn takes a connection from the pool and points its search_path at
// the app's schema, unless it already does. A connection that served
// another app also drops its prepared statements: the same text may
// resolve to other tables now, and PostgreSQL would refuse a cached
// statement whose result changed shape.
func (d *DB) pgConn(ctx context.Context) (*sql.Conn, error) {
	if err := d.ensureSchema(ctx); err != nil {
		return nil, err
	}
	c, err := d.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	err = c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		pc := sc.Conn()
		data := pc.PgConn().CustomData()
		prev, had := data[schemaKey]
		if prev == d.schema {
			return nil
		}
		delete(data, schemaKey)
		if had {
			if err := pc.DeallocateAll(ctx); err != nil {
				return err
			}
		}
		if _, err := pc.Exec(ctx, "SET search_path TO "+d.quoted); err != nil {
			return err
		}
		data[schemaKey] = d.schema
		return nil
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("set search_path to %s: %w", d.quoted, err)
	}
	return c, nil
}
