// Package media is the Micropub media endpoint: it receives uploaded files, checks them from
// their bytes, removes the location from photos, stores them with resized copies, and serves
// them. The Micropub endpoint's multipart creates store their files through it too.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register decoders for image.DecodeConfig
	_ "image/jpeg" // ...
	_ "image/png"  // ...
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "golang.org/x/image/webp" // ...

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/photo"
)

// Store keeps uploaded files and their records.
type Store interface {
	// CreateTemp opens a temp file that SaveMedia can move into place atomically.
	CreateTemp() (*os.File, error)
	// SaveMedia moves tmpPath into place as m.Name; the same name saved twice is one file.
	SaveMedia(ctx context.Context, m *micropubd.Media, tmpPath string) (*micropubd.Media, error)
	MediaByName(ctx context.Context, name string) (*micropubd.Media, error)
	OpenMedia(name string) (*os.File, error)
	ListMedia(ctx context.Context, limit, offset int) ([]*micropubd.Media, error)
	// MediaVariants lists the resized copies of an upload.
	MediaVariants(ctx context.Context, id int64) ([]*micropubd.Media, error)
	SetMediaAlt(ctx context.Context, name, alt string) error
	// DeleteUnusedMedia removes the record and the file together, in one transaction with
	// the check that no post mentions url; if some do, it returns their paths and keeps the file.
	DeleteUnusedMedia(ctx context.Context, name, url string) (usedBy []string, err error)
}

// Service stores uploads, from the media endpoint and from multipart creates alike.
type Service struct {
	Store   Store
	BaseURL *url.URL
	// MaxSize is the largest file accepted, in bytes.
	MaxSize int64
	// KeepLocation keeps the GPS position in uploaded JPEGs; by default it is removed.
	KeepLocation bool
	Now          func() time.Time
	// Log hears of resized copies that could not be made (the upload is kept all the same).
	Log *slog.Logger
}

// mediaTypes are the types accepted, with the extension files get. Anything else (HTML, SVG,
// PDF, scripts) is refused: files are served from the site's own origin.
var mediaTypes = map[string]string{
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"image/heic":      ".heic",
	"image/heif":      ".heif",
	"image/avif":      ".avif",
	"video/mp4":       ".mp4",
	"video/quicktime": ".mov",
	"video/webm":      ".webm",
	"audio/mpeg":      ".mp3",
	"audio/mp4":       ".m4a",
	"audio/ogg":       ".ogg",
	"audio/wave":      ".wav",
	"audio/flac":      ".flac",
	"audio/aac":       ".aac",
}

// acceptedTypes lists the accepted types, in order.
func acceptedTypes() []string {
	return slices.Sorted(maps.Keys(mediaTypes))
}

// URL returns the absolute URL a stored file is served at.
func (s *Service) URL(m *micropubd.Media) string {
	return s.prefix() + m.Name
}

func (s *Service) prefix() string { return s.BaseURL.String() + "media/" }

// NameOf returns the file name in a URL of a stored file, or "" if it is not one.
func (s *Service) NameOf(rawURL string) string {
	name, ok := strings.CutPrefix(rawURL, s.prefix())
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return ""
	}
	return name
}

// Upload is a received file waiting in a temp file until it is committed or discarded.
type Upload struct {
	tmp       *os.File
	committed bool
	Media     micropubd.Media
}

// Discard removes the temp file of an upload that will not be stored; after Commit it does
// nothing.
func (u *Upload) Discard() {
	if u.committed || u.tmp == nil {
		return
	}
	u.tmp.Close()
	os.Remove(u.tmp.Name())
}

// ForMicropub returns s as the Micropub handler's micropub.Uploads: the files of multipart
// creates, received and stored as the media endpoint's are, and the alt text posts give them.
func (s *Service) ForMicropub() micropub.Uploads { return micropubUploads{s} }

type micropubUploads struct{ s *Service }

func (m micropubUploads) Receive(r io.Reader) (micropub.Upload, error) {
	u, err := m.s.Receive(r)
	if err != nil {
		return nil, err
	}
	return micropubUpload{m.s, u}, nil
}

func (m micropubUploads) NameOf(rawURL string) string { return m.s.NameOf(rawURL) }

func (m micropubUploads) SetMediaAlt(ctx context.Context, name, alt string) error {
	return m.s.Store.SetMediaAlt(ctx, name, alt)
}

// micropubUpload is an Upload as micropub.Upload: it knows the service it is stored by.
type micropubUpload struct {
	s *Service
	u *Upload
}

func (m micropubUpload) URL() string { return m.s.URL(&m.u.Media) }

func (m micropubUpload) Commit(ctx context.Context) error {
	_, err := m.s.Commit(ctx, m.u)
	return err
}

func (m micropubUpload) Discard() { m.u.Discard() }

// Receive writes r to a temp file next to the media folder, checks its type from its bytes
// (never from the client's claim) and its size, removes the location from JPEGs, and names it
// by the SHA-256 of the result. Nothing is stored until Commit.
func (s *Service) Receive(r io.Reader) (*Upload, error) {
	maxSize := s.MaxSize
	if maxSize <= 0 {
		maxSize = micropub.DefaultLimits.Upload
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, micropub.ReadError(err, maxSize)
	}
	head = head[:n]
	if n == 0 {
		return nil, micropub.InvalidRequest("the file is empty")
	}
	mimeType := DetectType(head)
	ext, ok := mediaTypes[mimeType]
	if !ok {
		return nil, &micropub.Error{Status: http.StatusUnsupportedMediaType, Code: micropub.CodeUnsupportedType,
			Description: fmt.Sprintf("files of type %s (detected from the file's bytes) are not accepted; send an image, video or audio file of one of these types: %s",
				mimeType, strings.Join(acceptedTypes(), ", "))}
	}
	tmp, err := s.Store.CreateTemp()
	if err != nil {
		return nil, err
	}
	u := &Upload{tmp: tmp, Media: micropubd.Media{MIMEType: mimeType}}
	size, err := io.Copy(fileWriter{tmp}, io.MultiReader(bytes.NewReader(head), io.LimitReader(r, maxSize+1-int64(n))))
	if err != nil {
		u.Discard()
		var fe writeFailed
		if errors.As(err, &fe) {
			return nil, fileError(fe.err)
		}
		return nil, micropub.ReadError(err, maxSize)
	}
	if size > maxSize {
		u.Discard()
		return nil, micropub.TooLarge("the file", maxSize, micropub.UploadLimitFlag)
	}
	if mimeType == "image/jpeg" && !s.KeepLocation {
		if _, err := stripJPEGLocation(tmp, size); err != nil {
			u.Discard()
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, fileError(err)
			}
			return nil, micropub.InvalidRequest("the JPEG file is malformed: %v", err)
		}
	}
	hash := sha256.New()
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		u.Discard()
		return nil, fileError(err)
	}
	if _, err := io.Copy(hash, tmp); err != nil {
		u.Discard()
		return nil, fileError(err)
	}
	u.Media.Name = hex.EncodeToString(hash.Sum(nil))[:40] + ext
	u.Media.Size = size
	if _, err := tmp.Seek(0, io.SeekStart); err == nil {
		if cfg, _, err := image.DecodeConfig(tmp); err == nil {
			u.Media.Width, u.Media.Height = cfg.Width, cfg.Height
			head := make([]byte, min(size, metadataWindow))
			if _, err := tmp.ReadAt(head, 0); err == nil && mimeType == "image/jpeg" && photo.Orientation(head) >= 5 {
				// The camera was on its side: the photo is shown the other way round.
				u.Media.Width, u.Media.Height = cfg.Height, cfg.Width
			}
		}
	}
	return u, nil
}

// Commit moves a received file into the media folder and records it; the same bytes stored
// twice are one file and one record.
func (s *Service) Commit(ctx context.Context, u *Upload) (*micropubd.Media, error) {
	defer u.Discard() // removes the temp file if it was not moved into place
	if err := u.tmp.Sync(); err != nil {
		return nil, fileError(err)
	}
	if err := u.tmp.Close(); err != nil {
		return nil, fileError(err)
	}
	m := u.Media
	if s.Now != nil {
		m.Created = s.Now()
	}
	saved, err := s.Store.SaveMedia(ctx, &m, u.tmp.Name())
	if err != nil {
		return nil, err
	}
	u.committed = true
	if err := s.saveCopies(ctx, saved); err != nil && s.Log != nil {
		s.Log.WarnContext(ctx, "resized copies of an upload could not be made", "file", saved.Name, "err", err)
	}
	return saved, nil
}

// saveCopies stores the resized copies of a JPEG or PNG photo (640 and 1280 pixels wide, when
// it is wider), unless it has them already (the same bytes were uploaded before).
func (s *Service) saveCopies(ctx context.Context, original *micropubd.Media) error {
	if original.MIMEType != "image/jpeg" && original.MIMEType != "image/png" || original.Width <= photo.Widths[0] {
		return nil
	}
	if have, err := s.Store.MediaVariants(ctx, original.ID); err != nil || len(have) > 0 {
		return err
	}
	f, err := s.Store.OpenMedia(original.Name)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", original.Name, err)
	}
	copies, err := photo.Resize(data, original.MIMEType, photo.Widths)
	if err != nil {
		return err
	}
	for _, c := range copies {
		tmp, err := s.Store.CreateTemp()
		if err != nil {
			return err
		}
		_, werr := tmp.Write(c.Data)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write resized copy: %w", werr)
		}
		sum := sha256.Sum256(c.Data)
		m := &micropubd.Media{Name: hex.EncodeToString(sum[:])[:40] + mediaTypes[c.Type], MIMEType: c.Type,
			Size: int64(len(c.Data)), Width: c.Width, Height: c.Height, Created: original.Created, VariantOf: original.ID}
		if _, err := s.Store.SaveMedia(ctx, m, tmp.Name()); err != nil {
			return err
		}
	}
	return nil
}

// fileError marks a failure of the server's own file (writing an upload to its temp file),
// not of the client's request: it is never shown to the client, whose answer is a 507 when
// the disk is full and a 500 otherwise.
func fileError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", micropubd.ErrNoSpace, err)
	}
	return fmt.Errorf("write upload: %w", err)
}

// fileWriter tells the failures of writing the server's temp file apart from those of reading
// the request: io.Copy returns either.
type fileWriter struct{ f *os.File }

type writeFailed struct{ err error }

func (e writeFailed) Error() string { return e.err.Error() }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = writeFailed{err}
	}
	return n, err
}

// isSVG reports whether a file starts as an SVG document does: an XML declaration, a doctype or
// comments, then an svg element.
func isSVG(head []byte) bool {
	s := strings.ToLower(string(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")))
	if !strings.HasPrefix(s, "<") {
		return false
	}
	i := strings.Index(s, "<svg")
	return i >= 0 && (i == 0 || strings.HasPrefix(s, "<?xml") || strings.HasPrefix(s, "<!doctype svg") || strings.HasPrefix(s, "<!--"))
}

// DetectType names the type of a file from its first bytes. The ISO media formats are told
// apart by their ftyp brand, which net/http's sniffer does not do.
func DetectType(head []byte) string {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) {
		case "qt  ":
			return "video/quicktime"
		case "M4A ", "M4B ", "M4P ":
			return "audio/mp4"
		case "heic", "heix", "hevc", "hevx", "heim", "heis":
			return "image/heic"
		case "mif1", "msf1":
			return "image/heif"
		case "avif", "avis":
			return "image/avif"
		case "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "dash", "mmp4", "3gp4", "3gp5":
			return "video/mp4"
		}
	}
	if len(head) >= 4 && string(head[:4]) == "fLaC" {
		return "audio/flac"
	}
	if len(head) >= 2 && head[0] == 0xFF && (head[1]&0xF6) == 0xF0 {
		return "audio/aac" // ADTS
	}
	if len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && head[1]&0x06 != 0 {
		return "audio/mpeg" // an MPEG audio frame without an ID3 tag
	}
	if isSVG(head) {
		return "image/svg+xml" // which net/http's sniffer calls text/xml or text/plain
	}
	t := http.DetectContentType(head)
	switch t {
	case "application/ogg":
		return "audio/ogg"
	}
	if i := bytes.IndexByte([]byte(t), ';'); i >= 0 {
		t = t[:i] // "text/plain; charset=utf-8" names a type we refuse anyway
	}
	return t
}
