package photo

import (
	"image"
	"image/color"
	"testing"
)

func TestOrient_PutsTheRightCornerTopLeft(t *testing.T) {
	// A 4×2 image with a colour in each corner.
	corners := map[string]color.NRGBA{"TL": {255, 0, 0, 255}, "TR": {0, 255, 0, 255}, "BL": {0, 0, 255, 255}, "BR": {255, 255, 0, 255}}
	src := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	src.SetNRGBA(0, 0, corners["TL"])
	src.SetNRGBA(3, 0, corners["TR"])
	src.SetNRGBA(0, 1, corners["BL"])
	src.SetNRGBA(3, 1, corners["BR"])
	tests := []struct {
		orientation int
		topLeft     string
		w, h        int
	}{
		{1, "TL", 4, 2}, {2, "TR", 4, 2}, {3, "BR", 4, 2}, {4, "BL", 4, 2},
		{5, "TL", 2, 4}, {6, "BL", 2, 4}, {7, "BR", 2, 4}, {8, "TR", 2, 4},
	}
	for _, tt := range tests {
		got := orient(src, tt.orientation)
		if got.Bounds().Dx() != tt.w || got.Bounds().Dy() != tt.h {
			t.Errorf("orientation %d: %v, want %dx%d", tt.orientation, got.Bounds(), tt.w, tt.h)
		}
		if got.NRGBAAt(0, 0) != corners[tt.topLeft] {
			t.Errorf("orientation %d: top left is %v, want the %s corner", tt.orientation, got.NRGBAAt(0, 0), tt.topLeft)
		}
	}
}

func TestOrientation_ReadsTheExifTag(t *testing.T) {
	le := []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
		'I', 'I', 42, 0, 8, 0, 0, 0, // TIFF header, IFD0 at 8
		1, 0, // one entry
		0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // orientation SHORT 6
		0, 0, 0, 0, 0xFF, 0xD9}
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"little-endian orientation 6", le, 6},
		{"no Exif", []byte{0xFF, 0xD8, 0xFF, 0xD9}, 1},
		{"not a JPEG", []byte("GIF89a"), 1},
		{"cut short", le[:20], 1},
	}
	for _, tt := range tests {
		if got := Orientation(tt.data); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
