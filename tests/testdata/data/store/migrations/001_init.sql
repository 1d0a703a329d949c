-- Portable SQL: the same file runs on SQLite and PostgreSQL.
CREATE TABLE log (v TEXT NOT NULL);
CREATE TABLE counter (n INTEGER NOT NULL);
INSERT INTO counter (n) VALUES (0);
