-- A post's categories were kept in two b-trees: post_categories, keyed (category, published_at,
-- post_id), for the owner's listings of a category, and the partial index
-- post_categories_listed for the tag pages. Each new row goes in at the same place in the
-- middle of both, next to full pages, which SQLite rebalances with their siblings again and
-- again: about five pages written per batch of creates in each, the most of any b-tree. One
-- b-tree keyed (category, listed, published_at, post_id) serves both: a tag page reads its
-- category's listed rows in order, and the owner's listing merges the two runs of the
-- category (listed and not), each read in order (see listQuery).
CREATE TABLE post_categories_new (
	category     TEXT    NOT NULL,
	listed       INTEGER NOT NULL CHECK (listed IN (0, 1)), -- 1: on the tag pages (in the public feed)
	published_at INTEGER NOT NULL, -- the post's, kept equal to it by every write
	post_id      INTEGER NOT NULL,
	PRIMARY KEY (category, listed, published_at, post_id)
) WITHOUT ROWID;
INSERT INTO post_categories_new (category, listed, published_at, post_id)
	SELECT category, listed, published_at, post_id FROM post_categories;
DROP TABLE post_categories;
ALTER TABLE post_categories_new RENAME TO post_categories;
