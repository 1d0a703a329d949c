-- The notes, and a counter that hands out their ids. The same SQL runs on
-- SQLite (the default) and on PostgreSQL (lsgi serve --db postgres://...):
-- ids come from the counter, in the transaction that inserts the note,
-- rather than from an auto-increment, which the two spell differently.
CREATE TABLE notes (
  id      INTEGER PRIMARY KEY,
  text    TEXT NOT NULL,
  author  TEXT,
  tags    TEXT NOT NULL,  -- a JSON array of strings
  created TEXT NOT NULL   -- RFC 3339, UTC
);

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  n    INTEGER NOT NULL
);

INSERT INTO counters (name, n) VALUES ('notes', 0);
