package notes

import (
	"errors"
	"strings"
)

// Positions order notebooks and notes by hand (fractional indexing): lowercase keys compared
// byte-wise, read as base-26 fractions ("a" is 0, "z" is 25). There is always a key strictly
// between two different keys, so moving one item changes one row. A key never ends in "a":
// nothing would fit between "b" and "ba".

const (
	digits = "abcdefghijklmnopqrstuvwxyz"
	base   = len(digits)
	// maxPositionLen is how long a key may grow before the keys of its list are respaced.
	maxPositionLen = 8
	// longestPosition is the longest key a client may set.
	longestPosition = 64
)

func digit(s string, i int) int {
	if i < len(s) {
		return int(s[i] - 'a')
	}
	return 0
}

// between returns a key strictly between a and b, where "" as a means before everything and
// "" as b after everything. a must sort before b.
func between(a, b string) string {
	// Walk the common prefix (a shorter than b reads as padded with zeros).
	n := 0
	for b != "" && n < len(b) && digit(a, n) == digit(b, n) {
		n++
	}
	lo := digit(a, n)
	hi := base
	if b != "" {
		hi = digit(b, n)
	}
	prefix := b[:min(n, len(b))]
	if b == "" {
		prefix = padded(a, n)
	}
	if hi-lo > 1 {
		return prefix + string(digits[(lo+hi)/2])
	}
	// Neighbouring digits: b's next digits, if any, leave room below b.
	if b != "" && len(b) > n+1 {
		return b[:n+1]
	}
	// Otherwise keep a's digit and go one place further, above the rest of a.
	return prefix + string(digits[lo]) + between(rest(a, n+1), "")
}

// before returns a key just below b, for an item put first: it steps b's last digit down
// rather than halving the gap, so keys grow a digit only every dozen or so items.
func before(b string) string {
	if last := b[len(b)-1]; last > 'b' {
		return b[:len(b)-1] + string(last-1)
	}
	return between("", b)
}

// after returns a key just above a, for an item put last.
func after(a string) string {
	if last := a[len(a)-1]; last < 'z' {
		return a[:len(a)-1] + string(last+1)
	}
	return between(a, "")
}

func padded(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat("a", n-len(s))
}

func rest(s string, n int) string {
	if n >= len(s) {
		return ""
	}
	return s[n:]
}

// spaced returns n keys in ascending order, evenly spread and as short as they can be.
func spaced(n int) []string {
	width, slots := 1, base
	for slots < 2*(n+1) {
		width++
		slots *= base
	}
	keys := make([]string, n)
	for i := range keys {
		v := (i + 1) * slots / (n + 1)
		if v%base == 0 {
			v++ // no trailing zero digit; the gaps are at least 2 wide, so the order holds
		}
		b := make([]byte, width)
		for j := width - 1; j >= 0; j-- {
			b[j] = digits[v%base]
			v /= base
		}
		keys[i] = string(b)
	}
	return keys
}

// validPosition checks a key a client sends.
func validPosition(s string) error {
	if s == "" || len(s) > longestPosition {
		return errors.New("a position is 1 to 64 lowercase letters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return errors.New("a position is 1 to 64 lowercase letters")
		}
	}
	if s[len(s)-1] == 'a' {
		return errors.New(`a position may not end in "a" (nothing would fit after it)`)
	}
	return nil
}

// needsRespacing reports whether any key has grown too long.
func needsRespacing(keys []string) bool {
	for _, k := range keys {
		if len(k) > maxPositionLen {
			return true
		}
	}
	return false
}
