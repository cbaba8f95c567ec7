package media

import (
	"bytes"
	"io"
	"testing"
	"time"
)

func FuzzStripJPEGLocation(f *testing.F) {
	f.Add([]byte("\xFF\xD8\xFF\xE1\x00\x10Exif\x00\x00II*\x00\x08\x00\x00\x00\xFF\xD9"))
	f.Add([]byte("\xFF\xD8\xFF\xDA"))
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := &memFile{b: append([]byte(nil), data...)}
		stripJPEGLocation(buf, int64(len(data))) // must not panic or grow the file
		if len(buf.b) != len(data) {
			t.Fatalf("size changed from %d to %d", len(data), len(buf.b))
		}
	})
}

func TestStripJPEGLocation_FillBytesAreCheap(t *testing.T) {
	// 20 MB of 0xFF fill bytes once kept the server busy for half a minute.
	data := append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF}, 20<<20)...)
	start := time.Now()
	if _, err := stripJPEGLocation(&memFile{b: data}, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// memFile is an in-memory file that never grows past writes in place.
type memFile struct{ b []byte }

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}
