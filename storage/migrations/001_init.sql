-- Posts keep their full microformats2 properties as JSON; the columns beside them are derived
-- from those properties on every write and exist for routing, listing and access checks.
CREATE TABLE posts (
	id           INTEGER PRIMARY KEY,
	path         TEXT    NOT NULL UNIQUE,
	type         TEXT    NOT NULL,
	post_type    TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('published', 'draft')),
	visibility   TEXT    NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private')),
	properties   TEXT    NOT NULL CHECK (json_valid(properties)),
	syndicate_to TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(syndicate_to)),
	published_at INTEGER NOT NULL, -- Unix nanoseconds, UTC
	updated_at   INTEGER,
	deleted_at   INTEGER,
	created_at   INTEGER NOT NULL
);

-- Newest-first listings, with and without the status/visibility filters.
CREATE INDEX posts_by_published ON posts (published_at DESC, id DESC);
CREATE INDEX posts_feed ON posts (published_at DESC, id DESC)
	WHERE deleted_at IS NULL AND status = 'published' AND visibility = 'public';
CREATE INDEX posts_by_post_type ON posts (post_type, published_at DESC, id DESC);

-- Every path a post has had, so old URLs still resolve after a slug change.
CREATE TABLE post_paths (
	path    TEXT    PRIMARY KEY,
	post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE
);

CREATE TABLE post_categories (
	post_id  INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
	category TEXT    NOT NULL,
	PRIMARY KEY (post_id, category)
);
CREATE INDEX post_categories_by_category ON post_categories (category);

-- Access tokens are stored as SHA-256 hashes, never in clear.
CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	hash         BLOB    NOT NULL UNIQUE,
	me           TEXT    NOT NULL,
	client_id    TEXT    NOT NULL DEFAULT '',
	scope        TEXT    NOT NULL DEFAULT '',
	issued_at    INTEGER NOT NULL,
	expires_at   INTEGER,
	revoked_at   INTEGER,
	last_used_at INTEGER
);

-- Uploaded files; name is the SHA-256 of the bytes plus an extension, and the file on disk.
CREATE TABLE media (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	mime_type  TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	width      INTEGER NOT NULL DEFAULT 0,
	height     INTEGER NOT NULL DEFAULT 0,
	alt        TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX media_by_created ON media (created_at DESC, id DESC);
