package micropubd

import "time"

// Media is an uploaded file. Files are named by the SHA-256 of their bytes, so the same bytes
// uploaded twice are one file.
type Media struct {
	ID       int64
	Name     string // file name under the media folder and in its URL: hash + extension
	MIMEType string
	Size     int64
	Width    int
	Height   int
	Alt      string
	Created  time.Time
	// VariantOf is the id of the original of a resized copy; 0 for an upload.
	VariantOf int64
}
