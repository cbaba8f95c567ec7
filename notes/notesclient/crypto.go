package notesclient

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/micropubd/micropubd/notes"
)

// The notes encryption of every Micro.blog client, for the command line and the tests: a key
// is "mkey" and 64 lowercase hex digits (AES-256); a note's text is standard padded base64 of
// nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes), AES-256-GCM, no associated data, the plain
// text being UTF-8 Markdown.

const keyPrefix = "mkey"

// ErrWrongKey means a note could not be decrypted: the key is not the one it was encrypted
// with, or the text was damaged.
var ErrWrongKey = errors.New("the note cannot be decrypted with this key (wrong key, or damaged text)")

// Key is a notes key.
type Key [32]byte

// GenerateKey makes a new random key.
func GenerateKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// ParseKey reads a key written as "mkey" and 64 hex digits; surrounding space is ignored.
func ParseKey(s string) (Key, error) {
	var k Key
	s = strings.TrimSpace(s)
	hexKey, ok := strings.CutPrefix(s, keyPrefix)
	if !ok || len(hexKey) != 2*len(k) {
		return k, errors.New(`a notes key is "mkey" followed by 64 hex digits`)
	}
	if _, err := hex.Decode(k[:], []byte(strings.ToLower(hexKey))); err != nil {
		return k, errors.New(`a notes key is "mkey" followed by 64 hex digits`)
	}
	return k, nil
}

// String writes the key as Micro.blog does: "mkey" and 64 lowercase hex digits.
func (k Key) String() string { return keyPrefix + hex.EncodeToString(k[:]) }

// Encrypt encrypts a note's text with a fresh random nonce.
func Encrypt(k Key, plaintext string) (string, error) {
	nonce := make([]byte, notes.NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return encryptWithNonce(k, nonce, plaintext)
}

func encryptWithNonce(k Key, nonce []byte, plaintext string) (string, error) {
	aead, err := newGCM(k)
	if err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce[:notes.NonceSize:notes.NonceSize], nonce, []byte(plaintext), nil)
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// Decrypt decrypts a note's text. A trailing newline (some clients add one) is tolerated.
func Decrypt(k Key, text string) (string, error) {
	raw, err := notes.DecodeCiphertext(text)
	if err != nil {
		return "", err
	}
	aead, err := newGCM(k)
	if err != nil {
		return "", err
	}
	plain, err := aead.Open(nil, raw[:notes.NonceSize], raw[notes.NonceSize:], nil)
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}

func newGCM(k Key) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
