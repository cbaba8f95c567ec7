package notes

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// The notes encryption every Micro.blog client uses (notesclient implements it for the command
// line and the tests): a key is "mkey" and 64 lowercase hex digits (AES-256); a note's text is
// standard padded base64 of nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes), AES-256-GCM, no
// associated data. The server never encrypts or decrypts; it only checks that private text has
// the shape of ciphertext.

const (
	// NonceSize and TagSize are AES-GCM's.
	NonceSize = 12
	TagSize   = 16
	// minCiphertext is the shortest ciphertext: an empty note's nonce and tag.
	minCiphertext = NonceSize + TagSize
)

// DecodeCiphertext checks that text is base64 of at least a nonce and a tag, and returns those
// bytes. A trailing newline (some clients add one) is tolerated.
func DecodeCiphertext(text string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimRight(text, "\r\n"))
	if err != nil {
		return nil, errors.New("encrypted text must be standard base64")
	}
	if len(raw) < minCiphertext {
		return nil, fmt.Errorf("encrypted text must hold at least %d bytes (a 12-byte nonce and a 16-byte tag), not %d", minCiphertext, len(raw))
	}
	return raw, nil
}
