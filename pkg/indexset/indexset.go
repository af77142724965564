// Package indexset implements a compact set of non-negative integers, stored
// as sorted, disjoint, non-adjacent closed intervals.
//
// Its text form is the one Kubernetes uses for an Indexed Job's
// status.completedIndexes ("0-4999,5001"), so a set of job indexes can be
// kept in an object's status and read back by people and tools alike. Jobs
// of a task tend to finish roughly in order, so a task with 100,000 jobs
// usually costs a handful of intervals rather than 100,000 entries.
package indexset

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MaxIndex is the largest index a Set can hold. Intervals are stored as
// int32 pairs to halve memory and splice costs, and the bound keeps Count
// representable as an int even on 32-bit platforms.
const MaxIndex = math.MaxInt32 - 1

// interval is the closed range [first, last].
type interval struct {
	first, last int32
}

// Set is a set of indexes in [0, MaxIndex]. The zero value is an empty set
// ready to use. Assigning a Set shares its storage, so use Clone to get a
// copy that can be modified independently.
type Set struct {
	// intervals is sorted; consecutive intervals are separated by at least
	// one missing index, so the representation of a set is unique and
	// Equal can compare it directly.
	intervals []interval
	// count is the number of indexes, kept up to date so Count is O(1).
	count int
}

// Parse parses the completedIndexes form: comma-separated decimal indexes
// and inclusive ranges "first-last", in increasing order. "" is the empty
// set. Adjacent elements ("0-1,2") are accepted and merged, since they
// describe a valid set; anything else that is not strictly increasing
// (overlap, repetition, disorder), negative, out of range, or malformed is
// rejected, with an error naming the element and its byte offset.
func Parse(s string) (Set, error) {
	var set Set
	if s == "" {
		return set, nil
	}
	for start := 0; ; {
		end := strings.IndexByte(s[start:], ',')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		elem := s[start:end]
		first, last, err := parseElement(elem)
		if err != nil {
			return Set{}, fmt.Errorf("invalid index set: element %q at offset %d: %v", elem, start, err)
		}
		if n := len(set.intervals); n > 0 {
			prev := &set.intervals[n-1]
			switch {
			case int(prev.last) >= first:
				return Set{}, fmt.Errorf("invalid index set: element %q at offset %d: overlaps or is out of order with the preceding element, which ends at %d; elements must be in increasing order", elem, start, prev.last)
			case int(prev.last)+1 == first:
				prev.last = int32(last)
			default:
				set.intervals = append(set.intervals, interval{int32(first), int32(last)})
			}
		} else {
			set.intervals = append(set.intervals, interval{int32(first), int32(last)})
		}
		set.count += last - first + 1
		if end == len(s) {
			return set, nil
		}
		start = end + 1
	}
}

// parseElement parses "N" or "N-M".
func parseElement(elem string) (first, last int, err error) {
	if elem == "" {
		return 0, 0, fmt.Errorf("empty element")
	}
	if elem[0] == '-' {
		return 0, 0, fmt.Errorf("negative index")
	}
	lo, hi, isRange := strings.Cut(elem, "-")
	if first, err = parseIndex(lo); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return first, first, nil
	}
	if hi == "" {
		return 0, 0, fmt.Errorf("range has no end")
	}
	if hi[0] == '-' {
		return 0, 0, fmt.Errorf("negative range end")
	}
	if last, err = parseIndex(hi); err != nil {
		return 0, 0, err
	}
	if last < first {
		return 0, 0, fmt.Errorf("reversed range: end %d is less than start %d", last, first)
	}
	return first, last, nil
}

// parseIndex accepts only canonical decimal numbers (no sign, no leading
// zeros), so that every accepted string has a single meaning and the
// round trip through String is exact for canonical input.
func parseIndex(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing index")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal index", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("index %q has a leading zero", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > MaxIndex {
		return 0, fmt.Errorf("index %s exceeds the maximum of %d", s, MaxIndex)
	}
	return int(n), nil
}

// search returns the position of the first interval whose last index is
// >= i: the interval holding i, if any, or where i would be inserted.
func (s Set) search(i int32) int {
	lo, hi := 0, len(s.intervals)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.intervals[mid].last < i {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Add inserts i and reports whether it was not already present. Indexes
// outside [0, MaxIndex] cannot be members and are ignored (false). Adding
// past the end, the common case for jobs finishing in order, is O(1);
// otherwise it is an O(log n) search plus at most one splice.
func (s *Set) Add(i int) bool {
	if i < 0 || i > MaxIndex {
		return false
	}
	v := int32(i)
	n := len(s.intervals)
	// Fast path: append or extend the last interval.
	if n == 0 || v > s.intervals[n-1].last {
		if n > 0 && s.intervals[n-1].last == v-1 {
			s.intervals[n-1].last = v
		} else {
			s.intervals = append(s.intervals, interval{v, v})
		}
		s.count++
		return true
	}
	k := s.search(v)
	if s.intervals[k].first <= v {
		return false
	}
	// v falls in the gap before intervals[k] (k < n thanks to the fast path).
	joinLeft := k > 0 && s.intervals[k-1].last == v-1
	joinRight := s.intervals[k].first == v+1
	switch {
	case joinLeft && joinRight:
		s.intervals[k-1].last = s.intervals[k].last
		s.intervals = slices.Delete(s.intervals, k, k+1)
	case joinLeft:
		s.intervals[k-1].last = v
	case joinRight:
		s.intervals[k].first = v
	default:
		s.intervals = slices.Insert(s.intervals, k, interval{v, v})
	}
	s.count++
	return true
}

// Remove deletes i and reports whether it was present, in O(log n) plus at
// most one splice (removing from the middle of an interval splits it).
func (s *Set) Remove(i int) bool {
	if !s.Has(i) {
		return false
	}
	v := int32(i)
	k := s.search(v)
	iv := s.intervals[k]
	switch {
	case iv.first == v && iv.last == v:
		s.intervals = slices.Delete(s.intervals, k, k+1)
	case iv.first == v:
		s.intervals[k].first = v + 1
	case iv.last == v:
		s.intervals[k].last = v - 1
	default:
		s.intervals[k].last = v - 1
		s.intervals = slices.Insert(s.intervals, k+1, interval{v + 1, iv.last})
	}
	s.count--
	return true
}

// Has reports whether i is in the set, in O(log n).
func (s Set) Has(i int) bool {
	if i < 0 || i > MaxIndex {
		return false
	}
	k := s.search(int32(i))
	return k < len(s.intervals) && int(s.intervals[k].first) <= i
}

// Count returns the number of indexes in the set, in O(1), so callers can
// compare it with a task's job count on every event.
func (s Set) Count() int {
	return s.count
}

// NumIntervals returns the number of maximal runs of consecutive indexes,
// which is what the set's memory and String length are proportional to.
func (s Set) NumIntervals() int {
	return len(s.intervals)
}

// String returns the completedIndexes form, e.g. "0-4999,5001"; "" for the
// empty set. Runs of two are written as a range ("1-2"), as Kubernetes does.
func (s Set) String() string {
	if len(s.intervals) == 0 {
		return ""
	}
	b := make([]byte, 0, len(s.intervals)*12)
	for k, iv := range s.intervals {
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(iv.first), 10)
		if iv.last != iv.first {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(iv.last), 10)
		}
	}
	return string(b)
}

// Each calls fn for every index in increasing order until fn returns false.
func (s Set) Each(fn func(i int) bool) {
	for _, iv := range s.intervals {
		for i := int(iv.first); i <= int(iv.last); i++ {
			if !fn(i) {
				return
			}
		}
	}
}

// EachInterval calls fn for every maximal run [first, last] in increasing
// order until fn returns false. Prefer it to Each when work can be done per
// run, since a large set usually has few runs.
func (s Set) EachInterval(fn func(first, last int) bool) {
	for _, iv := range s.intervals {
		if !fn(int(iv.first), int(iv.last)) {
			return
		}
	}
}

// Equal reports whether both sets hold the same indexes. The representation
// is canonical, so this is a direct comparison of intervals.
func (s Set) Equal(other Set) bool {
	return s.count == other.count && slices.Equal(s.intervals, other.intervals)
}

// Clone returns an independent copy; assigning a Set shares its storage.
func (s Set) Clone() Set {
	return Set{intervals: slices.Clone(s.intervals), count: s.count}
}

// MarshalText implements encoding.TextMarshaler so a Set can be stored as
// the same string Kubernetes uses, e.g. in JSON.
func (s Set) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with Parse's rules. On
// error the set is left unchanged.
func (s *Set) UnmarshalText(text []byte) error {
	parsed, err := Parse(string(text))
	if err != nil {
		return err
	}
	*s = parsed
	return nil
}
