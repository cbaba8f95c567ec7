-- Tag pages and per-tag feeds list a category's public posts newest first. Each category row
-- carries its post's published time and whether the post is in the public feed, kept up to date
-- by the triggers below, so that a tag's page is read from one index, whatever the archive's size.
ALTER TABLE post_categories ADD COLUMN published_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE post_categories ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
UPDATE post_categories SET
	published_at = (SELECT p.published_at FROM posts p WHERE p.id = post_id),
	listed = (SELECT p.deleted_at IS NULL AND p.status = 'published' AND p.visibility = 'public' FROM posts p WHERE p.id = post_id);
CREATE INDEX post_categories_listed ON post_categories (category, published_at DESC, post_id DESC) WHERE listed = 1;

CREATE TRIGGER post_categories_copy_post AFTER INSERT ON post_categories BEGIN
	UPDATE post_categories SET
		published_at = (SELECT p.published_at FROM posts p WHERE p.id = NEW.post_id),
		listed = (SELECT p.deleted_at IS NULL AND p.status = 'published' AND p.visibility = 'public' FROM posts p WHERE p.id = NEW.post_id)
	WHERE post_id = NEW.post_id AND category = NEW.category;
END;

CREATE TRIGGER posts_update_categories AFTER UPDATE OF published_at, status, visibility, deleted_at ON posts BEGIN
	UPDATE post_categories SET
		published_at = NEW.published_at,
		listed = (NEW.deleted_at IS NULL AND NEW.status = 'published' AND NEW.visibility = 'public')
	WHERE post_id = NEW.id;
END;

-- When anything a page or feed shows last changed: the Last-Modified of the feeds. One row,
-- stamped by triggers on every write to posts, media and settings.
CREATE TABLE site_changes (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	changed_at INTEGER NOT NULL -- Unix nanoseconds
);
INSERT INTO site_changes (id, changed_at) VALUES (1, CAST(unixepoch('subsec') * 1000000000 AS INTEGER));
CREATE TRIGGER posts_insert_stamp AFTER INSERT ON posts BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;
CREATE TRIGGER posts_update_stamp AFTER UPDATE ON posts BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;
CREATE TRIGGER media_update_stamp AFTER UPDATE ON media BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;
CREATE TRIGGER settings_insert_stamp AFTER INSERT ON settings BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;
CREATE TRIGGER settings_update_stamp AFTER UPDATE ON settings BEGIN
	UPDATE site_changes SET changed_at = CAST(unixepoch('subsec') * 1000000000 AS INTEGER) WHERE id = 1;
END;

-- Resized copies of uploaded photos (640 and 1280 pixels wide) are media rows of their own,
-- served like any file, pointing at their original.
ALTER TABLE media ADD COLUMN variant_of INTEGER REFERENCES media (id) ON DELETE CASCADE;
CREATE INDEX media_variants ON media (variant_of, width) WHERE variant_of IS NOT NULL;

-- Webmentions received: a durable queue (pending rows are verified in the background, also
-- after a restart) and the record of what was accepted. One row per source and post; the
-- accepted ones are also in the post's comment, like, repost, bookmark or mention property.
CREATE TABLE webmentions (
	id          INTEGER PRIMARY KEY,
	source      TEXT    NOT NULL,
	target      TEXT    NOT NULL,
	post_id     INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
	source_host TEXT    NOT NULL,
	status      TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'gone', 'deleted')),
	kind        TEXT    NOT NULL DEFAULT '',
	cite        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(cite)),
	error       TEXT    NOT NULL DEFAULT '',
	attempts    INTEGER NOT NULL DEFAULT 0,
	due_at      INTEGER NOT NULL DEFAULT 0, -- when a pending row is verified (Unix nanoseconds)
	received_at INTEGER NOT NULL,
	verified_at INTEGER,
	UNIQUE (source, post_id)
);
CREATE INDEX webmentions_due ON webmentions (due_at, id) WHERE status = 'pending';
CREATE INDEX webmentions_by_post ON webmentions (post_id, received_at);

-- Webmentions sent: one row per post and link target, a durable queue with retries. version
-- is a hash of the post when the row was queued: an unchanged post is never sent twice.
CREATE TABLE webmention_sends (
	id        INTEGER PRIMARY KEY,
	post_id   INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
	source    TEXT    NOT NULL,
	target    TEXT    NOT NULL,
	version   TEXT    NOT NULL,
	status    TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'none', 'failed')),
	endpoint  TEXT    NOT NULL DEFAULT '',
	result    TEXT    NOT NULL DEFAULT '',
	title     TEXT    NOT NULL DEFAULT '', -- the target page's title, found while discovering
	attempts  INTEGER NOT NULL DEFAULT 0,
	due_at    INTEGER NOT NULL DEFAULT 0,
	done_at   INTEGER,
	UNIQUE (post_id, target)
);
CREATE INDEX webmention_sends_due ON webmention_sends (due_at, id) WHERE status = 'pending';
