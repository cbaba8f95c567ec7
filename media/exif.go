package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// metadataWindow is how much of a JPEG's start is searched for metadata: the Exif and XMP
// segments come before the image data, and a file that puts more than this before it gains
// nothing from making the server read on.
const metadataWindow = 4 << 20

// jpegFile is what stripJPEGLocation edits: an upload's temp file.
type jpegFile interface {
	io.ReaderAt
	io.WriterAt
}

// stripJPEGLocation removes the location a camera wrote into a JPEG, in place and without
// re-encoding: the GPS IFD of the Exif segment is emptied (its entries and the data they point
// at are zeroed, its entry count set to 0) and XMP packets (main or extended) that mention GPS
// are blanked with spaces. Sizes and offsets never change, so the picture stays byte for byte
// as uploaded, and other Exif data such as the orientation is kept. The segments are read into
// memory once, from the first metadataWindow bytes. It reports whether anything was removed.
func stripJPEGLocation(f jpegFile, size int64) (bool, error) {
	buf := make([]byte, min(size, metadataWindow))
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return false, err
	}
	if len(buf) < 2 || buf[0] != 0xFF || buf[1] != 0xD8 {
		return false, errors.New("not a JPEG")
	}
	stripped := false
	pos := 2
	for pos+4 <= len(buf) {
		if buf[pos] != 0xFF {
			break
		}
		marker := buf[pos+1]
		switch {
		case marker == 0xFF: // fill byte: the marker follows
			pos++
			continue
		case marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01:
			pos += 2 // markers without a length
			continue
		case marker == 0xDA || marker == 0xD9:
			return stripped, nil // image data starts: metadata segments come before it
		}
		length := int(binary.BigEndian.Uint16(buf[pos+2 : pos+4]))
		start, end := pos+4, pos+2+length
		if length < 2 || end > len(buf) {
			break
		}
		body := buf[start:end]
		pos = end
		if marker != 0xE1 {
			continue
		}
		changed := false
		switch {
		case bytes.HasPrefix(body, []byte("Exif\x00\x00")):
			changed = emptyGPSIFD(body[6:])
		case bytes.HasPrefix(body, []byte(xmpMain)):
			changed = blankXMPLocation(body[len(xmpMain):])
		case bytes.HasPrefix(body, []byte(xmpExtension)):
			changed = blankXMPLocation(body[len(xmpExtension):])
		}
		if changed {
			stripped = true
			if _, err := f.WriteAt(body, int64(start)); err != nil {
				return stripped, err
			}
		}
	}
	return stripped, nil
}

const (
	xmpMain      = "http://ns.adobe.com/xap/1.0/\x00"
	xmpExtension = "http://ns.adobe.com/xmp/extension/\x00"
)

// tiffTypeSizes are the byte sizes of TIFF field types 1..12.
var tiffTypeSizes = [...]int{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8}

const gpsIFDTag = 0x8825

// emptyGPSIFD zeroes the GPS IFD of a TIFF structure in place. It reports whether it found one.
func emptyGPSIFD(tiff []byte) bool {
	if len(tiff) < 8 {
		return false
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return false
	}
	ifd0 := int(order.Uint32(tiff[4:8]))
	gps := -1
	forEachEntry(tiff, order, ifd0, func(entry []byte) {
		if order.Uint16(entry[0:2]) == gpsIFDTag {
			gps = int(order.Uint32(entry[8:12]))
		}
	})
	if gps <= 0 || gps+2 > len(tiff) {
		return false
	}
	n := int(order.Uint16(tiff[gps : gps+2]))
	forEachEntry(tiff, order, gps, func(entry []byte) {
		typ := int(order.Uint16(entry[2:4]))
		count := int(order.Uint32(entry[4:8]))
		if typ <= 0 || typ >= len(tiffTypeSizes) {
			return
		}
		size := count * tiffTypeSizes[typ]
		if size > 4 && count < 1<<20 {
			off := int(order.Uint32(entry[8:12]))
			if off >= 0 && off+size <= len(tiff) {
				clear(tiff[off : off+size])
			}
		}
	})
	end := min(gps+2+12*n, len(tiff))
	clear(tiff[gps+2 : end])
	order.PutUint16(tiff[gps:gps+2], 0)
	return true
}

// forEachEntry calls fn with each 12-byte entry of the IFD at off, if it lies inside tiff.
func forEachEntry(tiff []byte, order binary.ByteOrder, off int, fn func(entry []byte)) {
	if off < 8 || off+2 > len(tiff) {
		return
	}
	n := int(order.Uint16(tiff[off : off+2]))
	for i := 0; i < n; i++ {
		start := off + 2 + 12*i
		if start+12 > len(tiff) {
			return
		}
		fn(tiff[start : start+12])
	}
}

// blankXMPLocation overwrites an XMP packet with spaces when it carries GPS data.
func blankXMPLocation(xmp []byte) bool {
	if !bytes.Contains(xmp, []byte("GPS")) {
		return false
	}
	for i := range xmp {
		xmp[i] = ' '
	}
	return true
}
