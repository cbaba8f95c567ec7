-- The owner's settings, such as the password hash.
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Authorization codes, stored hashed. A code is used once: used_at is set atomically when it is
-- redeemed, and tokens remember the code they came from so a replayed code can revoke them.
CREATE TABLE auth_codes (
	id             INTEGER PRIMARY KEY,
	hash           BLOB    NOT NULL UNIQUE,
	client_id      TEXT    NOT NULL,
	redirect_uri   TEXT    NOT NULL,
	scope          TEXT    NOT NULL DEFAULT '',
	code_challenge TEXT    NOT NULL DEFAULT '',
	token_ttl      INTEGER NOT NULL DEFAULT 0, -- seconds; 0: the server's default
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	used_at        INTEGER
);

-- The owner's sign-in sessions, stored hashed.
CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	hash       BLOB    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);

ALTER TABLE tokens ADD COLUMN client_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN code_id INTEGER REFERENCES auth_codes (id) ON DELETE SET NULL;
-- A refresh token belongs to one access token; refreshing revokes the old pair.
ALTER TABLE tokens ADD COLUMN refresh_hash BLOB;
ALTER TABLE tokens ADD COLUMN refresh_expires_at INTEGER;
CREATE UNIQUE INDEX tokens_by_refresh ON tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
CREATE INDEX tokens_by_code ON tokens (code_id) WHERE code_id IS NOT NULL;
