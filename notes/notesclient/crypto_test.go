package notesclient

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The test vector of the issue: key 00..1f, nonce 0..01, "Hello, notes!".
const (
	vectorKey        = "mkey000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	vectorPlain      = "Hello, notes!"
	vectorCiphertext = "AAAAAAAAAAAAAAABXbPTkCvYEHBhWjRKzRy+PBww9B5rVzXIIYUeOfk="
)

func TestEncrypt_MatchesTheMicroBlogTestVector(t *testing.T) {
	k, err := ParseKey(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	if k.String() != vectorKey {
		t.Errorf("String() = %s", k)
	}
	nonce := make([]byte, 12)
	nonce[11] = 1
	got, err := encryptWithNonce(k, nonce, vectorPlain)
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorCiphertext {
		t.Errorf("ciphertext = %s, want %s", got, vectorCiphertext)
	}
	for _, text := range []string{vectorCiphertext, vectorCiphertext + "\n", vectorCiphertext + "\r\n"} {
		plain, err := Decrypt(k, text)
		if err != nil || plain != vectorPlain {
			t.Errorf("Decrypt(%q) = %q, %v", text, plain, err)
		}
	}
}

func TestEncrypt_RoundTripsWithFreshNonces(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.String(), "mkey") || len(k.String()) != 68 || strings.ToLower(k.String()) != k.String() {
		t.Errorf("key %s is not mkey and 64 lowercase hex digits", k)
	}
	text := "# Groceries\n\n- [ ] milk ✓ ünïcödé\n"
	a, _ := Encrypt(k, text)
	b, _ := Encrypt(k, text)
	if a == b {
		t.Error("two encryptions of one text are equal: the nonce is not fresh")
	}
	for _, c := range []string{a, b} {
		if got, err := Decrypt(k, c); err != nil || got != text {
			t.Errorf("Decrypt = %q, %v", got, err)
		}
	}
}

func TestDecrypt_WrongKeyOrDamagedTextIsReported(t *testing.T) {
	k, _ := ParseKey(vectorKey)
	other, _ := GenerateKey()
	if _, err := Decrypt(other, vectorCiphertext); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong key: err = %v, want ErrWrongKey", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(vectorCiphertext)
	raw[len(raw)-1] ^= 1
	if _, err := Decrypt(k, base64.StdEncoding.EncodeToString(raw)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("damaged tag: err = %v, want ErrWrongKey", err)
	}
	for _, bad := range []string{"not base64!", "AAAA", base64.StdEncoding.EncodeToString(make([]byte, 27))} {
		if _, err := Decrypt(k, bad); err == nil || errors.Is(err, ErrWrongKey) {
			t.Errorf("Decrypt(%q): err = %v, want a format error", bad, err)
		}
	}
}

func TestParseKey_RefusesWhatIsNotAKey(t *testing.T) {
	for _, bad := range []string{"", "mkey", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"mkey000102", vectorKey + "00", "mkeyzz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted it", bad)
		}
	}
	if _, err := ParseKey("  " + vectorKey + "\n"); err != nil {
		t.Errorf("surrounding space: %v", err)
	}
}
