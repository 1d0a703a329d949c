package dict

// This file is the Redis store. Each item is one Redis string key,
// "lsgi:<namespace>:<dictionary>:<key>", holding the item as codec.go
// encodes it, with the item's time to live as the key's. Namespaces and
// dictionary names hold no ':' and no glob character, so a dictionary's
// keys are exactly those matching its prefix.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisKeyPrefix starts every key the Redis store writes.
const RedisKeyPrefix = "lsgi:"

// Redis is the [Store] kept in a Redis server, shared by every host that
// uses the same server and database.
type Redis struct {
	client *redis.Client
	opts   Options

	mu     sync.Mutex
	dicts  map[nsName]*redisDict
	count  map[string]int
	closed atomic.Bool
}

// NewRedis returns a store in the Redis server that rawURL names:
// redis://[user:password@]host:port/db, rediss:// for TLS, or
// unix:///path/to/socket?db=N, with go-redis's query options (dial_timeout,
// read_timeout, pool_size, ...). It does not connect yet: see [Redis.Ping].
//
// Each operation is bounded by its context's deadline and by the read and
// write timeouts (5s unless the URL says otherwise). A failed command is
// not retried (max_retries=0 unless the URL says otherwise): an incr whose
// reply was lost may have been applied, and running it again would count
// twice.
func NewRedis(rawURL string, opts Options, logger *slog.Logger) (*Redis, error) {
	ropts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("dict: redis URL %q: %w", redactURL(rawURL), err)
	}
	query := url.Values{}
	if u, err := url.Parse(rawURL); err == nil {
		query = u.Query()
	}
	ropts.ContextTimeoutEnabled = true
	if !query.Has("max_retries") {
		ropts.MaxRetries = -1
	}
	ropts.DialerRetries = 1
	ropts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if logger != nil {
		setRedisLogger(logger)
	}
	return &Redis{
		client: redis.NewClient(ropts),
		opts:   opts.withDefaults(),
		dicts:  map[nsName]*redisDict{},
		count:  map[string]int{},
	}, nil
}

// redactURL hides the password of a Redis URL in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

var redisLoggerOnce sync.Once

// setRedisLogger sends go-redis's own messages (a process-wide setting) to
// logger, the first time a Redis store is made.
func setRedisLogger(logger *slog.Logger) {
	redisLoggerOnce.Do(func() { redis.SetLogger(redisLog{logger}) })
}

type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}

// Ping checks that the server answers within ctx.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("dict: redis %s: %w", r.client.Options().Addr, err)
	}
	return nil
}

// Open implements [Store]. The size bounds the size of one item only; the
// server's maxmemory and maxmemory-policy decide about eviction.
func (r *Redis) Open(ns, name string, size int64) (Dict, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := checkSize(size); err != nil {
		return nil, err
	}
	if strings.ContainsAny(ns, "*?[]\\") {
		return nil, fmt.Errorf("%w: namespace %q", ErrInvalid, ns)
	}
	if r.closed.Load() {
		return nil, ErrClosed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := nsName{ns, name}
	d := r.dicts[k]
	if d == nil {
		if r.count[ns] >= r.opts.MaxDicts {
			return nil, fmt.Errorf("%w: %d dictionaries already (the limit); dictionary %q not made", ErrTooMany, r.count[ns], name)
		}
		if size == 0 {
			size = r.opts.DefaultSize
		}
		d = &redisDict{r: r, name: name, prefix: RedisKeyPrefix + ns + ":" + name + ":"}
		d.size.Store(size)
		r.dicts[k] = d
		r.count[ns]++
	} else if size > 0 {
		d.size.Store(size)
	}
	return d, nil
}

// Close closes the connections to the server.
func (r *Redis) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("dict: close redis client: %w", err)
	}
	return nil
}

type redisDict struct {
	r      *Redis
	name   string
	prefix string
	size   atomic.Int64
}

func (d *redisDict) Name() string { return d.name }
func (d *redisDict) Size() int64  { return d.size.Load() }

func (d *redisDict) key(key string) (string, error) {
	if d.r.closed.Load() {
		return "", ErrClosed
	}
	if err := checkKey(key); err != nil {
		return "", err
	}
	return d.prefix + key, nil
}

// fail wraps a Redis error: the server's OOM refusal is ErrNoMemory.
func (d *redisDict) fail(cmd string, err error) error {
	if strings.HasPrefix(err.Error(), "OOM ") {
		return fmt.Errorf("%w: redis %s: %w", ErrNoMemory, cmd, err)
	}
	return fmt.Errorf("dict: redis %s (%s): %w", cmd, d.r.client.Options().Addr, err)
}

// Get implements [Dict].
func (d *redisDict) Get(ctx context.Context, key string) (Item, bool, error) {
	k, err := d.key(key)
	if err != nil {
		return Item{}, false, err
	}
	s, err := d.r.client.Get(ctx, k).Result()
	if errors.Is(err, redis.Nil) {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, d.fail("GET", err)
	}
	it, err := decode(s)
	if err != nil {
		return Item{}, false, fmt.Errorf("dict: redis key %q: %w", k, err)
	}
	return it, true, nil
}

// Store implements [Dict]: SET, SET NX for add, SET XX for replace. forcible
// is always false: Redis evicts on its own.
func (d *redisDict) Store(ctx context.Context, op Op, key string, it Item, ttl time.Duration) (bool, error) {
	k, err := d.key(key)
	if err != nil {
		return false, err
	}
	if err := checkValue(it.Value); err != nil {
		return false, err
	}
	if err := checkTTL(ttl); err != nil {
		return false, err
	}
	if size, limit := ItemSize(key, it.Value), d.size.Load(); size > limit {
		return false, tooLarge(d.name, size, limit)
	}
	enc := encode(it)
	exp := time.Duration(ttlMillis(ttl)) * time.Millisecond
	switch op {
	case OpAdd, OpSafeAdd:
		ok, err := d.r.client.SetNX(ctx, k, enc, exp).Result()
		if err != nil {
			return false, d.fail("SET NX", err)
		}
		if !ok {
			return false, ErrExists
		}
	case OpReplace:
		ok, err := d.r.client.SetXX(ctx, k, enc, exp).Result()
		if err != nil {
			return false, d.fail("SET XX", err)
		}
		if !ok {
			return false, ErrNotFound
		}
	default:
		if err := d.r.client.Set(ctx, k, enc, exp).Err(); err != nil {
			return false, d.fail("SET", err)
		}
	}
	return false, nil
}

// incrScript adds ARGV[1] to the number at KEYS[1], keeping its flags and
// time to live; an absent key becomes ARGV[2] + ARGV[1] with the time to
// live ARGV[3] (milliseconds, 0 for none), unless ARGV[2] is empty. It
// returns {1, encoded item}, {0, ""} for not found, {2, ""} for not a
// number. The number travels as a string: Redis would truncate a Lua
// number reply to an integer.
var incrScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
local delta = tonumber(ARGV[1])
if not v then
  if ARGV[2] == '' then return {0, ''} end
  local s = 'n:' .. string.format('%.17g', tonumber(ARGV[2]) + delta)
  local ttl = tonumber(ARGV[3])
  if ttl > 0 then redis.call('SET', KEYS[1], s, 'PX', ttl) else redis.call('SET', KEYS[1], s) end
  return {1, s}
end
local colon = string.find(v, ':', 1, true)
local n = colon and string.sub(v, 1, 1) == 'n' and tonumber(string.sub(v, colon + 1))
if not n then return {2, ''} end
local s = string.sub(v, 1, colon) .. string.format('%.17g', n + delta)
redis.call('SET', KEYS[1], s, 'KEEPTTL')
return {1, s}
`)

// Incr implements [Dict] with a Lua script, atomic in Redis.
func (d *redisDict) Incr(ctx context.Context, key string, delta float64, init *float64, initTTL time.Duration) (float64, bool, error) {
	k, err := d.key(key)
	if err != nil {
		return 0, false, err
	}
	if err := checkValue(NumberValue(delta)); err != nil {
		return 0, false, err
	}
	if err := checkTTL(initTTL); err != nil {
		return 0, false, err
	}
	initArg := ""
	if init != nil {
		if err := checkValue(NumberValue(*init)); err != nil {
			return 0, false, err
		}
		if size, limit := ItemSize(key, NumberValue(0)), d.size.Load(); size > limit {
			return 0, false, tooLarge(d.name, size, limit)
		}
		initArg = strconv.FormatFloat(*init, 'g', -1, 64)
	}
	res, err := incrScript.Run(ctx, d.r.client, []string{k},
		strconv.FormatFloat(delta, 'g', -1, 64), initArg, ttlMillis(initTTL)).Slice()
	if err != nil {
		return 0, false, d.fail("incr script", err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("dict: redis incr script: unexpected reply %v", res)
	}
	status, _ := res[0].(int64)
	switch status {
	case 0:
		return 0, false, ErrNotFound
	case 2:
		return 0, false, ErrNotNumber
	}
	enc, _ := res[1].(string)
	it, err := decode(enc)
	if err != nil {
		return 0, false, fmt.Errorf("dict: redis incr script: %w", err)
	}
	return it.Value.Num, false, nil
}

// Delete implements [Dict].
func (d *redisDict) Delete(ctx context.Context, key string) error {
	k, err := d.key(key)
	if err != nil {
		return err
	}
	if err := d.r.client.Del(ctx, k).Err(); err != nil {
		return d.fail("DEL", err)
	}
	return nil
}

// TTL implements [Dict].
func (d *redisDict) TTL(ctx context.Context, key string) (time.Duration, error) {
	k, err := d.key(key)
	if err != nil {
		return 0, err
	}
	// PTTL answers -2 for a missing key, -1 for one without expiry;
	// go-redis returns them as that many nanoseconds.
	ttl, err := d.r.client.PTTL(ctx, k).Result()
	switch {
	case err != nil:
		return 0, d.fail("PTTL", err)
	case ttl == -2:
		return 0, ErrNotFound
	case ttl < 0:
		return 0, nil
	}
	return ttl, nil
}

// expireScript sets the time to live of KEYS[1] to ARGV[1] milliseconds,
// or removes it for 0; it returns 0 when the key is absent.
var expireScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ms = tonumber(ARGV[1])
if ms > 0 then redis.call('PEXPIRE', KEYS[1], ms) else redis.call('PERSIST', KEYS[1]) end
return 1
`)

// Expire implements [Dict].
func (d *redisDict) Expire(ctx context.Context, key string, ttl time.Duration) error {
	k, err := d.key(key)
	if err != nil {
		return err
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	n, err := expireScript.Run(ctx, d.r.client, []string{k}, ttlMillis(ttl)).Int()
	if err != nil {
		return d.fail("expire script", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// scan calls f with each batch of the dictionary's keys (SCAN may repeat a
// key); f returns false to stop.
func (d *redisDict) scan(ctx context.Context, f func(keys []string) bool) error {
	if d.r.closed.Load() {
		return ErrClosed
	}
	var cursor uint64
	for {
		keys, next, err := d.r.client.Scan(ctx, cursor, d.prefix+"*", 1000).Result()
		if err != nil {
			return d.fail("SCAN", err)
		}
		if len(keys) > 0 && !f(keys) {
			return nil
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// FlushAll implements [Dict] with SCAN and UNLINK: items written while it
// runs may stay.
func (d *redisDict) FlushAll(ctx context.Context) error {
	var err error
	scanErr := d.scan(ctx, func(keys []string) bool {
		if e := d.r.client.Unlink(ctx, keys...).Err(); e != nil {
			err = d.fail("UNLINK", e)
			return false
		}
		return true
	})
	if scanErr != nil {
		return scanErr
	}
	return err
}

// FlushExpired implements [Dict]: Redis removes expired keys itself, so
// there is never anything to flush.
func (d *redisDict) FlushExpired(context.Context, int) (int, error) {
	if d.r.closed.Load() {
		return 0, ErrClosed
	}
	return 0, nil
}

// Keys implements [Dict] with SCAN.
func (d *redisDict) Keys(ctx context.Context, max int) ([]string, error) {
	seen := map[string]bool{}
	var keys []string
	err := d.scan(ctx, func(batch []string) bool {
		for _, k := range batch {
			if max > 0 && len(keys) == max {
				return false
			}
			k = strings.TrimPrefix(k, d.prefix)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		return max == 0 || len(keys) < max
	})
	return keys, err
}
