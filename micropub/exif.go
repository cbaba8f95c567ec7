package micropub

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// stripJPEGLocation removes the location a camera wrote into a JPEG, in place and without
// re-encoding: the GPS IFD of the Exif segment is emptied (its entries and the data they point
// at are zeroed, its entry count set to 0) and an XMP packet that mentions GPS is blanked with
// spaces. Sizes and offsets never change, so the rest of the file, the picture included, stays
// byte for byte as uploaded, and other Exif data such as the orientation is kept.
// It reports whether anything was removed.
func stripJPEGLocation(f io.ReadWriteSeeker) (bool, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	var soi [2]byte
	if _, err := io.ReadFull(f, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return false, errors.New("not a JPEG")
	}
	pos := int64(2)
	stripped := false
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(f, hdr[:2]); err != nil {
			return stripped, nil // a truncated file: nothing more to look at
		}
		if hdr[0] != 0xFF {
			return stripped, nil
		}
		marker := hdr[1]
		pos += 2
		switch {
		case marker == 0xFF: // fill byte: the marker follows
			f.Seek(-1, io.SeekCurrent)
			pos--
			continue
		case marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01:
			continue // markers without a length
		case marker == 0xDA || marker == 0xD9:
			return stripped, nil // image data starts: metadata segments come before it
		}
		if _, err := io.ReadFull(f, hdr[2:4]); err != nil {
			return stripped, nil
		}
		length := int64(binary.BigEndian.Uint16(hdr[2:4]))
		if length < 2 {
			return stripped, nil
		}
		body := make([]byte, length-2)
		if _, err := io.ReadFull(f, body); err != nil {
			return stripped, nil
		}
		bodyAt := pos + 2
		pos += length
		if marker != 0xE1 {
			continue
		}
		changed := false
		switch {
		case bytes.HasPrefix(body, []byte("Exif\x00\x00")):
			changed = emptyGPSIFD(body[6:])
		case bytes.HasPrefix(body, []byte("http://ns.adobe.com/xap/1.0/\x00")):
			changed = blankXMPLocation(body[len("http://ns.adobe.com/xap/1.0/\x00"):])
		}
		if !changed {
			continue
		}
		stripped = true
		if _, err := f.Seek(bodyAt, io.SeekStart); err != nil {
			return stripped, err
		}
		if _, err := f.Write(body); err != nil {
			return stripped, err
		}
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			return stripped, err
		}
	}
}

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
