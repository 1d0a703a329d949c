package appdb

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// normalize turns a value scanned from a driver into one of the types a
// Result holds, and says how many bytes it counts for against MaxBytes.
// date says the column is of type DATE.
func normalize(v any, date bool) (any, int64) {
	switch v := v.(type) {
	case nil:
		return nil, 8
	case int64, float64, bool:
		return v, 8
	case string:
		return v, int64(len(v))
	case []byte:
		return v, int64(len(v))
	case time.Time:
		s := formatTime(v, date)
		return s, int64(len(s))
	case int32:
		return int64(v), 8
	case float32:
		return float64(v), 8
	default:
		s := fmt.Sprint(v)
		return s, int64(len(s))
	}
}

// formatTime writes a date or time value as text: a DATE whose time part is
// zero as 2006-01-02, anything else in RFC 3339 in UTC.
func formatTime(t time.Time, date bool) string {
	if date && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// isDateType tells whether a column's declared type is a date without a
// time of day.
func isDateType(name string) bool {
	return strings.EqualFold(name, "DATE")
}

// ensureDir creates the data folder if it is missing.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("appdb: create the data folder: %w", err)
	}
	return nil
}

// fileName maps an app's name to the name of its database file: bytes
// other than letters, digits, '-', '_' and '.' (and a leading '.') are
// escaped as %XX, so that two names never share a file and no name leaves
// the folder.
func fileName(app string) (string, error) {
	if app == "" {
		return "", fmt.Errorf("appdb: an app needs a name to have a database")
	}
	var b strings.Builder
	for i := 0; i < len(app); i++ {
		c := app[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String() + ".db", nil
}

// redact hides the password of a database URL.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return u
	}
	userinfo := rest[:at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return scheme + "://" + user + ":xxxxx@" + rest[at+1:]
	}
	return u
}
