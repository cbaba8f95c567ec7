package storage

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A backup is one gzip-compressed tar archive: manifest.json, then micropubd.db (a consistent
// snapshot of the database, taken with VACUUM INTO while the server may be writing), then
// media/NAME for every upload the snapshot records. Posts, tokens, settings, notes, notebooks
// and note versions are all in the database.

// BackupFormat names the archive format in its manifest.
const BackupFormat = "micropubd-backup-1"

// Manifest describes a backup archive.
type Manifest struct {
	Format  string    `json:"format"`
	Created time.Time `json:"created"`
	Media   int       `json:"media"`
	// Missing names uploads deleted while the backup ran: their rows are left out.
	Missing []string `json:"missing,omitempty"`
}

// Backup writes an archive of the data folder dir to w while a server may be using it. scratch
// is a folder for the snapshot of the database (best on the disk the archive goes to); the
// media files are hard-linked into dir's tmp folder meanwhile (copied where links fail), so
// that one deleted during the backup is still copied whole.
func Backup(ctx context.Context, dir, scratch string, w io.Writer) (*Manifest, error) {
	src := filepath.Join(dir, DBFile)
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("there is no database at %s: check --data: %w", src, err)
	}
	live := sql.OpenDB(newConnector(fileURI(src)+"?_busy_timeout=10000", readCacheKiB))
	defer live.Close()
	snapDir, err := os.MkdirTemp(scratch, ".micropubd-backup-")
	if err != nil {
		return nil, fmt.Errorf("scratch folder: %w", err)
	}
	defer os.RemoveAll(snapDir)
	snap := filepath.Join(snapDir, DBFile)
	if _, err := live.ExecContext(ctx, `VACUUM INTO ?`, snap); err != nil {
		return nil, fmt.Errorf("snapshot the database: %w", noSpace(err))
	}
	linkDir, err := os.MkdirTemp(filepath.Join(dir, "tmp"), "backup-")
	if err != nil {
		return nil, fmt.Errorf("staging folder: %w", err)
	}
	defer os.RemoveAll(linkDir)
	m := &Manifest{Format: BackupFormat, Created: time.Now().UTC()}
	names, err := stageMedia(ctx, snap, filepath.Join(dir, "media"), linkDir, m)
	if err != nil {
		return nil, err
	}
	m.Media = len(names)

	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	manifest, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o600, Size: int64(len(manifest)), ModTime: m.Created}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(manifest); err != nil {
		return nil, err
	}
	if err := addFile(tw, snap, DBFile); err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := addFile(tw, filepath.Join(linkDir, name), "media/"+name); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

// stageMedia links (or copies) the uploads the snapshot records into linkDir, and removes from
// the snapshot those whose files are gone, noting them in m.
func stageMedia(ctx context.Context, snap, mediaDir, linkDir string, m *Manifest) ([]string, error) {
	db, err := sql.Open("sqlite3", fileURI(snap)+"?_journal_mode=DELETE")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM media ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read the snapshot: %w", err)
	}
	var all []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, n)
	}
	rows.Close()
	var names []string
	for _, n := range all {
		if !validMediaName(n) {
			return nil, fmt.Errorf("the database records a file named %q, which is not a media name", n)
		}
		err := os.Link(filepath.Join(mediaDir, n), filepath.Join(linkDir, n))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			err = copyFile(filepath.Join(mediaDir, n), filepath.Join(linkDir, n))
		}
		if errors.Is(err, os.ErrNotExist) {
			m.Missing = append(m.Missing, n)
			if _, err := db.ExecContext(ctx, `DELETE FROM media WHERE name = ?`, n); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", n, noSpace(err))
		}
		names = append(names, n)
	}
	return names, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	return nil
}

// Restore unpacks a backup archive into dir, which must hold no database. Every file is
// checked (the database's integrity, each upload's bytes against its name, every recorded
// upload present) and fsynced before the database is moved into place, last: a restore that
// fails half way leaves no database, and can be run again.
func Restore(ctx context.Context, r io.Reader, dir string) (*Manifest, error) {
	target := filepath.Join(dir, DBFile)
	if _, err := os.Stat(target); err == nil {
		return nil, fmt.Errorf("%s already holds a database: restore into a new folder, or move that one away first", dir)
	}
	for _, d := range []string{dir, filepath.Join(dir, "media"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", noSpace(err))
		}
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a micropubd backup (gzip): %w", err)
	}
	tr := tar.NewReader(gz)
	var m *Manifest
	partial := filepath.Join(dir, "tmp", "restore-"+DBFile)
	defer os.Remove(partial)
	haveDB := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the archive: %w", err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch name := h.Name; {
		case m == nil && name == "manifest.json":
			m = &Manifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(m); err != nil || m.Format != BackupFormat {
				return nil, fmt.Errorf("the archive's manifest is not that of a %s backup", BackupFormat)
			}
		case m == nil:
			return nil, errors.New("not a micropubd backup: it does not start with manifest.json")
		case name == DBFile:
			if err := writeFile(partial, tr, ""); err != nil {
				return nil, err
			}
			haveDB = true
		case strings.HasPrefix(name, "media/") && validMediaName(strings.TrimPrefix(name, "media/")):
			file := strings.TrimPrefix(name, "media/")
			if err := writeFile(filepath.Join(dir, "media", file), tr, file); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("the archive holds %q, which is no part of a backup", name)
		}
	}
	if !haveDB {
		return nil, errors.New("the archive holds no database")
	}
	if err := syncDir(filepath.Join(dir, "media")); err != nil {
		return nil, err
	}
	if err := checkRestored(ctx, partial, filepath.Join(dir, "media")); err != nil {
		return nil, err
	}
	if err := os.Rename(partial, target); err != nil {
		return nil, fmt.Errorf("move the database into place: %w", err)
	}
	return m, syncDir(dir)
}

// writeFile writes r to path and fsyncs it; with hashName, the bytes must be the upload's
// whose name that is (its SHA-256 starts the name).
func writeFile(path string, r io.Reader, hashName string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return noSpace(err)
	}
	sum := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, sum), r); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", filepath.Base(path), noSpace(err))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return noSpace(err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if hashName != "" && !strings.HasPrefix(hashName, hex.EncodeToString(sum.Sum(nil))[:40]) {
		os.Remove(path)
		return fmt.Errorf("media/%s in the archive does not hold the bytes its name is the hash of", hashName)
	}
	return nil
}

// checkRestored opens a restored database: it must pass its integrity check and every upload
// it records must be in mediaDir.
func checkRestored(ctx context.Context, path, mediaDir string) error {
	db, err := sql.Open("sqlite3", fileURI(path))
	if err != nil {
		return err
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
		return fmt.Errorf("the archive's database fails its integrity check: %s %v", result, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM media`)
	if err != nil {
		return fmt.Errorf("read the restored database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(mediaDir, n)); err != nil || !validMediaName(n) {
			return fmt.Errorf("the archive lacks media/%s, which its database records", n)
		}
	}
	return rows.Err()
}
