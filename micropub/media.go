package micropub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/gif"  // register decoders for image.DecodeConfig
	_ "image/jpeg" // ...
	_ "image/png"  // ...
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	_ "golang.org/x/image/webp" // ...

	"github.com/micropubd/micropubd"
)

// MediaStore keeps uploaded files and their records.
type MediaStore interface {
	// CreateTemp opens a temp file that SaveMedia can move into place atomically.
	CreateTemp() (*os.File, error)
	// SaveMedia moves tmpPath into place as m.Name; the same name saved twice is one file.
	SaveMedia(ctx context.Context, m *micropubd.Media, tmpPath string) (*micropubd.Media, error)
	MediaByName(ctx context.Context, name string) (*micropubd.Media, error)
	OpenMedia(name string) (*os.File, error)
}

// MediaService stores uploads, from the media endpoint and from multipart creates alike.
type MediaService struct {
	Store   MediaStore
	BaseURL *url.URL
	// MaxSize is the largest file accepted, in bytes.
	MaxSize int64
	Now     func() time.Time
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

// URL returns the absolute URL a stored file is served at.
func (s *MediaService) URL(m *micropubd.Media) string {
	return s.BaseURL.String() + "media/" + m.Name
}

// Save stores the bytes of r under a name made from their SHA-256, after checking their type
// from the bytes themselves (never the client's claim).
func (s *MediaService) Save(ctx context.Context, r io.Reader) (*micropubd.Media, error) {
	tmp, err := s.Store.CreateTemp()
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // no-op after SaveMedia moved it
	defer tmp.Close()

	maxSize := s.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultLimits.Upload
	}
	hash := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(tmp, hash, &headWriter{buf: &head, max: 512}), io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("write upload: %w", err)
	}
	if n > maxSize {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Description: fmt.Sprintf("the file is larger than the limit of %d bytes", maxSize)}
	}
	if n == 0 {
		return nil, errInvalid("the file is empty")
	}
	mimeType := DetectType(head.Bytes())
	ext, ok := mediaTypes[mimeType]
	if !ok {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType,
			Description: fmt.Sprintf("files of type %s are not accepted; send an image, video or audio file", mimeType)}
	}
	m := &micropubd.Media{
		Name:     hex.EncodeToString(hash.Sum(nil))[:40] + ext,
		MIMEType: mimeType,
		Size:     n,
	}
	if s.Now != nil {
		m.Created = s.Now()
	}
	if _, err := tmp.Seek(0, io.SeekStart); err == nil {
		if cfg, _, err := image.DecodeConfig(tmp); err == nil {
			m.Width, m.Height = cfg.Width, cfg.Height
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write upload: %w", err)
	}
	return s.Store.SaveMedia(ctx, m, tmp.Name())
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	buf *bytes.Buffer
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
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
