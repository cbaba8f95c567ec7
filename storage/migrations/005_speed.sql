-- Listings that never visit deleted posts, categories kept in the order their listing reads
-- them and counted apart, and paths stored once per table: fewer B-trees touched per create,
-- and queries whose cost does not grow with the archive.

-- Newest-first listings of posts that are not deleted: the index holds only those, so an
-- OFFSET skips through the index without reading a deleted (or any) post's row.
DROP INDEX posts_by_published;
CREATE INDEX posts_live ON posts (published_at DESC, id DESC) WHERE deleted_at IS NULL;
DROP INDEX posts_by_post_type;
CREATE INDEX posts_by_post_type ON posts (post_type, published_at DESC, id DESC) WHERE deleted_at IS NULL;

-- Every path a post has had, keyed by the path itself (no rowid table and second index).
CREATE TABLE post_paths_new (
	path    TEXT    PRIMARY KEY,
	post_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO post_paths_new (path, post_id) SELECT path, post_id FROM post_paths;
DROP TABLE post_paths;
ALTER TABLE post_paths_new RENAME TO post_paths;

-- A post's categories (deleted posts keep theirs, for undelete), keyed in the order a
-- category's listing reads them: newest first, without sorting the matches. listed says the
-- post is in the public feed, for the tag pages' own index. Both are written by the storage
-- code with the post (the triggers of 004 that kept them are replaced).
DROP TRIGGER post_categories_copy_post;
DROP TRIGGER posts_update_categories;
DROP INDEX post_categories_listed;
CREATE TABLE post_categories_new (
	category     TEXT    NOT NULL,
	published_at INTEGER NOT NULL, -- the post's, kept equal to it by every write
	post_id      INTEGER NOT NULL,
	listed       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (category, published_at, post_id)
) WITHOUT ROWID;
INSERT INTO post_categories_new (category, published_at, post_id, listed)
	SELECT c.category, p.published_at, c.post_id,
		p.deleted_at IS NULL AND p.status = 'published' AND p.visibility = 'public'
	FROM post_categories c JOIN posts p ON p.id = c.post_id;
DROP TABLE post_categories;
ALTER TABLE post_categories_new RENAME TO post_categories;
CREATE INDEX post_categories_listed ON post_categories (category, published_at DESC, post_id DESC) WHERE listed = 1;

-- How many posts that are not deleted have each category: q=category and q=config read this
-- short table, not a row per post.
CREATE TABLE categories (
	category TEXT    PRIMARY KEY,
	posts    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO categories (category, posts)
	SELECT c.category, count(*) FROM post_categories c JOIN posts p ON p.id = c.post_id AND p.deleted_at IS NULL
	GROUP BY c.category;
