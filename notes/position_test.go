package notes

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestBetween_Cases(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"", ""}, {"n", ""}, {"z", ""}, {"zz", ""}, {"", "b"}, {"", "ab"}, {"", "aab"},
		{"b", "c"}, {"bz", "c"}, {"b", "bb"}, {"b", "bcd"}, {"ab", "b"}, {"az", "b"}, {"bcz", "bd"},
		{"y", "z"}, {"yz", "z"}, {"aaab", "aaac"},
	} {
		got := between(c.a, c.b)
		if !(c.a < got) || !(c.b == "" || got < c.b) {
			t.Errorf("between(%q, %q) = %q, not strictly between", c.a, c.b, got)
		}
		if err := validPosition(got); err != nil {
			t.Errorf("between(%q, %q) = %q: %v", c.a, c.b, got, err)
		}
	}
}

// TestBetween_OrderHoldsOverThousandsOfRandomInserts inserts keys at random places of a list
// and checks that the list stays strictly ordered, keys stay valid, and respacing (as the
// service does once a key passes 8 characters) keeps the order with no duplicates.
func TestBetween_OrderHoldsOverThousandsOfRandomInserts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var keys []string
	respaced := 0
	for i := range 5000 {
		at := rng.IntN(len(keys) + 1)
		switch i % 10 { // ends of the list grow keys fastest: favour them
		case 0:
			at = 0
		case 1:
			at = len(keys)
		}
		lo, hi := "", ""
		if at > 0 {
			lo = keys[at-1]
		}
		if at < len(keys) {
			hi = keys[at]
		}
		k := between(lo, hi)
		if k <= lo || (hi != "" && k >= hi) {
			t.Fatalf("insert %d: between(%q, %q) = %q", i, lo, hi, k)
		}
		if err := validPosition(k); err != nil {
			t.Fatalf("insert %d: %q: %v", i, k, err)
		}
		keys = slices.Insert(keys, at, k)
		if needsRespacing(keys) {
			keys = spaced(len(keys))
			respaced++
		}
		if !sort.StringsAreSorted(keys) {
			t.Fatalf("insert %d: keys out of order", i)
		}
	}
	if len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Error("duplicate keys")
	}
	if respaced == 0 {
		t.Error("5000 inserts never needed respacing: the test does not exercise it")
	}
	t.Logf("%d keys, respaced %d times", len(keys), respaced)
}

func TestBeforeAndAfter_StepOneDigit(t *testing.T) {
	for _, c := range []struct{ in, before, after string }{
		{"n", "m", "o"}, {"c", "b", "d"}, {"b", "an", "c"}, {"z", "y", "zn"}, {"ab", "aan", "ac"}, {"bz", "by", "n"},
	} {
		if got := before(c.in); got != c.before || got >= c.in || validPosition(got) != nil {
			t.Errorf("before(%q) = %q, want %q", c.in, got, c.before)
		}
		if got := after(c.in); got != c.after || got <= c.in || validPosition(got) != nil {
			t.Errorf("after(%q) = %q, want %q", c.in, got, c.after)
		}
	}
	// Putting items first a thousand times needs few respacings: keys grow a digit per dozen.
	first, respaced := "n", 0
	for range 1000 {
		first = before(first)
		if len(first) > maxPositionLen {
			first = spaced(1000)[0]
			respaced++
		}
	}
	if respaced > 15 {
		t.Errorf("1000 items put first respaced the list %d times", respaced)
	}
}

func TestSpaced_AscendingUniqueShortAndValid(t *testing.T) {
	for _, n := range []int{0, 1, 2, 12, 13, 25, 26, 338, 339, 1000, 100000} {
		keys := spaced(n)
		if len(keys) != n {
			t.Fatalf("spaced(%d) has %d keys", n, len(keys))
		}
		for i, k := range keys {
			if err := validPosition(k); err != nil {
				t.Fatalf("spaced(%d)[%d] = %q: %v", n, i, k, err)
			}
			if len(k) > maxPositionLen {
				t.Fatalf("spaced(%d)[%d] = %q is too long", n, i, k)
			}
			if i > 0 && keys[i-1] >= k {
				t.Fatalf("spaced(%d): %q then %q", n, keys[i-1], k)
			}
		}
	}
}

func TestValidPosition(t *testing.T) {
	for _, ok := range []string{"b", "n", "abc", "zzzzzzzzz"} {
		if err := validPosition(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "ba", "B", "b1", "é", string(make([]byte, 65))} {
		if validPosition(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
