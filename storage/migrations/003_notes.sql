-- Notebooks and notes. A note's text is the client's ciphertext; only a shared note's text is
-- plain, and post_id then names the post it is published as.
CREATE TABLE notebooks (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL,
	type        TEXT    NOT NULL DEFAULT 'notes',
	color_light TEXT    NOT NULL,
	color_dark  TEXT    NOT NULL,
	position    TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	modified_at INTEGER NOT NULL
);
CREATE INDEX notebooks_by_type ON notebooks (type);

CREATE TABLE notes (
	id               INTEGER PRIMARY KEY,
	notebook_id      INTEGER NOT NULL REFERENCES notebooks (id) ON DELETE CASCADE,
	title            TEXT    NOT NULL DEFAULT '',
	text             TEXT    NOT NULL,
	is_encrypted     INTEGER NOT NULL CHECK (is_encrypted IN (0, 1)),
	post_id          INTEGER UNIQUE REFERENCES posts (id),
	position         TEXT    NOT NULL,
	book_isbn        TEXT    NOT NULL DEFAULT '',
	book_title       TEXT    NOT NULL DEFAULT '',
	attached_post_id INTEGER,
	created_at       INTEGER NOT NULL,
	modified_at      INTEGER NOT NULL,
	CHECK (is_encrypted = 1 OR post_id IS NOT NULL) -- plain text only while shared
);
-- Listings per notebook: newest-modified first, newest-created first, or by hand.
CREATE INDEX notes_by_modified ON notes (notebook_id, modified_at DESC, id DESC);
CREATE INDEX notes_by_created ON notes (notebook_id, created_at DESC, id DESC);
CREATE INDEX notes_by_position ON notes (notebook_id, position, id);

-- Earlier texts of notes: created_at is when that text was saved, replaced_at when a newer
-- one took its place; versions are pruned a while after they were replaced.
CREATE TABLE note_versions (
	id           INTEGER PRIMARY KEY,
	note_id      INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
	text         TEXT    NOT NULL,
	is_encrypted INTEGER NOT NULL CHECK (is_encrypted IN (0, 1)),
	created_at   INTEGER NOT NULL,
	replaced_at  INTEGER NOT NULL
);
CREATE INDEX note_versions_by_note ON note_versions (note_id, created_at DESC, id DESC);
CREATE INDEX note_versions_by_replaced ON note_versions (replaced_at);
