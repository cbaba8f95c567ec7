// Package photo makes the resized copies of uploaded JPEG and PNG photos that pages offer
// with srcset, so that a phone does not download a camera's original: scaled with
// golang.org/x/image/draw's Catmull-Rom kernel, turned the way the camera's Exif orientation
// says, and encoded afresh, so that no metadata (no location) is copied.
package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// Widths are the widths of the copies made of a photo wider than them.
var Widths = []int{640, 1280}

// MaxPixels bounds the photos that are resized: decoding a larger one would take too much
// memory; it is served as it is.
const MaxPixels = 50_000_000

// Copy is a resized copy of a photo.
type Copy struct {
	Width, Height int
	Type          string
	Data          []byte
}

// Size returns a photo's size as it is shown: with the Exif orientation of a JPEG applied,
// so a portrait taken with the camera on its side is taller than wide.
func Size(data []byte, mimeType string) (width, height int, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, fmt.Errorf("read image size: %w", err)
	}
	if mimeType == "image/jpeg" && Orientation(data) >= 5 {
		return cfg.Height, cfg.Width, nil
	}
	return cfg.Width, cfg.Height, nil
}

// Resize returns copies of a JPEG or PNG photo at each of widths narrower than the photo, as
// it is shown (orientation applied); none for other types or photos over MaxPixels.
func Resize(data []byte, mimeType string, widths []int) ([]Copy, error) {
	if mimeType != "image/jpeg" && mimeType != "image/png" {
		return nil, nil
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read image size: %w", err)
	}
	if cfg.Width*cfg.Height > MaxPixels || cfg.Width == 0 || cfg.Height == 0 {
		return nil, nil
	}
	orientation := 1
	if mimeType == "image/jpeg" {
		orientation = Orientation(data)
	}
	shownW, shownH := cfg.Width, cfg.Height
	if orientation >= 5 {
		shownW, shownH = shownH, shownW
	}
	var src image.Image
	var copies []Copy
	for _, w := range widths {
		if w >= shownW {
			continue
		}
		if src == nil {
			if src, _, err = image.Decode(bytes.NewReader(data)); err != nil {
				return nil, fmt.Errorf("decode image: %w", err)
			}
		}
		h := max(1, (shownH*w+shownW/2)/shownW)
		rawW, rawH := w, h
		if orientation >= 5 {
			rawW, rawH = h, w
		}
		scaled := image.NewNRGBA(image.Rect(0, 0, rawW, rawH))
		draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, src.Bounds(), draw.Src, nil)
		img := orient(scaled, orientation)
		var buf bytes.Buffer
		if mimeType == "image/jpeg" {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82})
		} else {
			err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
		}
		if err != nil {
			return nil, fmt.Errorf("encode copy: %w", err)
		}
		copies = append(copies, Copy{Width: w, Height: h, Type: mimeType, Data: buf.Bytes()})
	}
	return copies, nil
}

// orient turns an image as Exif orientation o (1 to 8) says it must be turned to be shown.
func orient(src *image.NRGBA, o int) *image.NRGBA {
	if o < 2 || o > 8 {
		return src
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // upside down, mirrored
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // turned a quarter clockwise to be shown
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // turned a quarter anticlockwise to be shown
				dx, dy = y, w-1-x
			}
			dst.SetNRGBA(dx, dy, src.NRGBAAt(x, y))
		}
	}
	return dst
}

// Orientation reads the Exif orientation tag (1 to 8) of a JPEG's first Exif segment; 1 when
// there is none or it cannot be read.
func Orientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	pos := 2
	for pos+4 <= len(data) && data[pos] == 0xFF {
		marker := data[pos+1]
		if marker == 0xDA || marker == 0xD9 {
			break // image data: the metadata came before
		}
		length := int(binary.BigEndian.Uint16(data[pos+2 : pos+4]))
		end := pos + 2 + length
		if length < 2 || end > len(data) {
			break
		}
		body := data[pos+4 : end]
		if marker == 0xE1 && bytes.HasPrefix(body, []byte("Exif\x00\x00")) {
			return tiffOrientation(body[6:])
		}
		pos = end
	}
	return 1
}

func tiffOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder = binary.LittleEndian
	if string(tiff[:2]) == "MM" {
		order = binary.BigEndian
	} else if string(tiff[:2]) != "II" {
		return 1
	}
	ifd := int(order.Uint32(tiff[4:8]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	n := int(order.Uint16(tiff[ifd : ifd+2]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(tiff) {
			break
		}
		if order.Uint16(tiff[e:e+2]) == 0x0112 {
			if v := int(order.Uint16(tiff[e+8 : e+10])); v >= 1 && v <= 8 {
				return v
			}
		}
	}
	return 1
}
