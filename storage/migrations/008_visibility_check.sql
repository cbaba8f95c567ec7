-- foreign_keys: off (the posts table is rebuilt; see migrate)
-- CHECK (visibility IN ('public', 'unlisted', 'private')): SQLite codes an IN list of three or
-- more values as a temporary index, built and dropped again on every insert and update of a
-- post (a b-tree opened, three rows inserted, a page cache made and freed: about 2% of a
-- create). The same check as comparisons joined by OR is a few jumps. The constraint itself
-- is unchanged, so the rows are copied as they are.
CREATE TABLE posts_new (
	id           INTEGER PRIMARY KEY,
	path         TEXT    NOT NULL, -- unique through post_paths
	type         TEXT    NOT NULL,
	post_type    TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('published', 'draft')),
	visibility   TEXT    NOT NULL CHECK (visibility = 'public' OR visibility = 'unlisted' OR visibility = 'private'),
	properties   TEXT    NOT NULL CHECK (json_valid(properties)),
	syndicate_to TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(syndicate_to)),
	published_at INTEGER NOT NULL, -- Unix nanoseconds, UTC
	updated_at   INTEGER,
	deleted_at   INTEGER,
	created_at   INTEGER NOT NULL
);
INSERT INTO posts_new (id, path, type, post_type, status, visibility, properties, syndicate_to,
		published_at, updated_at, deleted_at, created_at)
	SELECT id, path, type, post_type, status, visibility, properties, syndicate_to,
		published_at, updated_at, deleted_at, created_at
	FROM posts;
DROP TABLE posts;
ALTER TABLE posts_new RENAME TO posts;

CREATE INDEX posts_feed ON posts (published_at, id)
	WHERE deleted_at IS NULL AND status = 'published' AND visibility = 'public';
CREATE INDEX posts_live ON posts (published_at, id) WHERE deleted_at IS NULL;
CREATE INDEX posts_by_post_type ON posts (post_type, published_at, id) WHERE deleted_at IS NULL;

CREATE TRIGGER posts_insert_stamp AFTER INSERT ON posts BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;
CREATE TRIGGER posts_update_stamp AFTER UPDATE ON posts BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;
