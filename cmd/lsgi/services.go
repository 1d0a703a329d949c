package main

// This file holds the flags of lsgi serve that configure the toolkit's data
// services (lsgi.shared, lsgi.session, lsgi.config), and builds the
// lualib.Services from them.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lsgi/lsgi/dict"
	"github.com/lsgi/lsgi/luabridge/lualib"
)

// secretEnv is the environment variable that gives the secret when
// --secret does not.
const secretEnv = "LSGI_SECRET"

// redisPingTimeout bounds the check that the Redis server answers at start.
const redisPingTimeout = 5 * time.Second

// serviceFlags are the parsed values of the services' flags.
type serviceFlags struct {
	fs          *flag.FlagSet
	shared      *string
	sharedSize  *string
	sharedDicts map[string]int64
	secret      *string
	env         []string
}

// addServiceFlags registers the services' flags on fs.
func addServiceFlags(fs *flag.FlagSet) *serviceFlags {
	f := &serviceFlags{fs: fs, sharedDicts: map[string]int64{}}
	f.shared = fs.String("shared", "memory", "where lsgi.shared keeps its dictionaries: memory, or `URL` redis://HOST:PORT/DB (rediss://, unix:///path?db=N) to share them between hosts")
	f.sharedSize = fs.String("shared-size", "1m", "default `size` of an app's dictionary (k, m, g suffixes); an app declares others with lsgi.shared.declare")
	fs.Func("shared-dict", "`NAME:SIZE` of a host-wide dictionary every app reaches as require(\"lsgi.shared\").global.NAME (repeat, or separate with commas)", func(v string) error {
		for _, spec := range strings.Split(v, ",") {
			name, size, err := parseDictSpec(spec)
			if err != nil {
				return err
			}
			f.sharedDicts[name] = size
		}
		return nil
	})
	f.secret = fs.String("secret", "", "secret `key` for session cookies and app keys, 16 bytes or more (default: $"+secretEnv+", else DATA/secret, generated once)")
	fs.Func("env", "environment `NAMES` apps may read with lsgi.config.env: NAME or PREFIX_* (repeat, or separate with commas)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if err := lualib.CheckEnvPattern(p); err != nil {
				return err
			}
			f.env = append(f.env, p)
		}
		return nil
	})
	// The data folder is shared with lsgi.db, which may define it first.
	if fs.Lookup("data") == nil {
		fs.String("data", "data", "data `folder` for the apps' databases and the generated secret, made on first use")
	}
	return f
}

// parseDictSpec reads NAME:SIZE.
func parseDictSpec(spec string) (string, int64, error) {
	name, sizeText, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok {
		return "", 0, fmt.Errorf("%q: want NAME:SIZE, such as sessions:10m", spec)
	}
	if err := dict.CheckName(name); err != nil {
		return "", 0, err
	}
	size, err := dict.ParseSize(sizeText)
	if err != nil {
		return "", 0, err
	}
	if size < dict.MinSize {
		return "", 0, fmt.Errorf("%q: a dictionary has at least %d bytes", spec, dict.MinSize)
	}
	return name, size, nil
}

// build makes the Services the flags describe. The caller closes them after
// the host has stopped.
func (f *serviceFlags) build(logger *slog.Logger) (*lualib.Services, error) {
	size, err := dict.ParseSize(*f.sharedSize)
	if err != nil || size < dict.MinSize {
		return nil, fmt.Errorf("-shared-size %q: want a size of at least %d bytes, such as 512k or 10m", *f.sharedSize, dict.MinSize)
	}
	s := &lualib.Services{
		SharedDicts: f.sharedDicts,
		DataDir:     f.fs.Lookup("data").Value.String(),
		Env:         lualib.SnapshotEnv(f.env, os.Environ()),
		EnvAllow:    f.env,
	}
	secret := *f.secret
	if secret == "" {
		secret = os.Getenv(secretEnv)
	}
	if secret != "" {
		if len(secret) < 16 {
			return nil, fmt.Errorf("the secret (-secret or $%s) has %d bytes; at least 16 are needed, 32 random ones are better", secretEnv, len(secret))
		}
		s.Secret = []byte(secret)
	}
	opts := dict.Options{DefaultSize: size}
	switch url := *f.shared; {
	case url == "memory" || url == "":
		s.Shared = dict.NewMemory(opts)
	case strings.HasPrefix(url, "redis://"), strings.HasPrefix(url, "rediss://"), strings.HasPrefix(url, "unix://"):
		store, err := dict.NewRedis(url, opts, logger)
		if err != nil {
			return nil, fmt.Errorf("-shared: %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), redisPingTimeout)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			// Apps that do not use lsgi.shared still serve; those that do
			// get a Lua error until the server answers.
			logger.Warn("the Redis server of lsgi.shared does not answer yet", "err", err)
		}
		s.Shared = store
	default:
		return nil, errors.New("-shared: want memory, or a redis://HOST:PORT/DB URL")
	}
	return s, nil
}
