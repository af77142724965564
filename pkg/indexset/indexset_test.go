package indexset

import (
	"encoding/json"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// members lists the indexes of s in order.
func members(s Set) []int {
	var out []int
	s.Each(func(i int) bool {
		out = append(out, i)
		return true
	})
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		in        string
		want      string // canonical String() of the result
		count     int
		intervals int
	}{
		{in: "", want: "", count: 0, intervals: 0},
		{in: "0", want: "0", count: 1, intervals: 1},
		{in: "5", want: "5", count: 1, intervals: 1},
		{in: "0-4999,5001", want: "0-4999,5001", count: 5001, intervals: 2},
		{in: "1,3-5,7", want: "1,3-5,7", count: 5, intervals: 3},
		{in: "3-3", want: "3", count: 1, intervals: 1},
		{in: "1-2", want: "1-2", count: 2, intervals: 1},
		// Adjacent elements describe a valid set and are merged.
		{in: "0-1,2", want: "0-2", count: 3, intervals: 1},
		{in: "0,1,2,3", want: "0-3", count: 4, intervals: 1},
		{in: "0-1,2-3,5", want: "0-3,5", count: 5, intervals: 2},
		{in: "2147483646", want: "2147483646", count: 1, intervals: 1},
		{in: "0-2147483646", want: "0-2147483646", count: MaxIndex + 1, intervals: 1},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.in, err)
			}
			if got := s.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if got := s.Count(); got != tc.count {
				t.Errorf("Count() = %d, want %d", got, tc.count)
			}
			if got := s.NumIntervals(); got != tc.intervals {
				t.Errorf("NumIntervals() = %d, want %d", got, tc.intervals)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // substring of the error
	}{
		{in: "-1", want: `element "-1" at offset 0: negative index`},
		{in: "1,-3", want: `element "-3" at offset 2: negative index`},
		{in: "1--3", want: `element "1--3" at offset 0: negative range end`},
		{in: "5-3", want: `element "5-3" at offset 0: reversed range: end 3 is less than start 5`},
		{in: "0-5,3", want: `element "3" at offset 4: overlaps or is out of order with the preceding element, which ends at 5`},
		{in: "0-5,5-7", want: `element "5-7" at offset 4: overlaps`},
		{in: "3,1", want: `element "1" at offset 2: overlaps or is out of order`},
		{in: "1,1", want: `element "1" at offset 2: overlaps`},
		{in: "a", want: `element "a" at offset 0: "a" is not a decimal index`},
		{in: "1,2x", want: `element "2x" at offset 2: "2x" is not a decimal index`},
		{in: " 1", want: `not a decimal index`},
		{in: "+1", want: `not a decimal index`},
		{in: "0x1", want: `not a decimal index`},
		{in: "1-", want: `element "1-" at offset 0: range has no end`},
		{in: "-", want: `negative index`},
		{in: "1-2-3", want: `"2-3" is not a decimal index`},
		{in: ",", want: `element "" at offset 0: empty element`},
		{in: "1,", want: `element "" at offset 2: empty element`},
		{in: "1,,2", want: `element "" at offset 2: empty element`},
		{in: "01", want: `index "01" has a leading zero`},
		{in: "2147483647", want: `index 2147483647 exceeds the maximum of 2147483646`},
		{in: "99999999999999999999999", want: `exceeds the maximum`},
		{in: "1-99999999999", want: `exceeds the maximum`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error containing %q", tc.in, s.String(), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tc.in, err, tc.want)
			}
			if s.Count() != 0 || s.NumIntervals() != 0 {
				t.Errorf("Parse(%q) returned a non-empty set alongside an error", tc.in)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name  string
		start string
		add   int
		isNew bool
		want  string
	}{
		{name: "into empty", start: "", add: 3, isNew: true, want: "3"},
		{name: "zero", start: "", add: 0, isNew: true, want: "0"},
		{name: "present single", start: "3", add: 3, isNew: false, want: "3"},
		{name: "present inside range", start: "1-9", add: 5, isNew: false, want: "1-9"},
		{name: "present range start", start: "1-9", add: 1, isNew: false, want: "1-9"},
		{name: "present range end", start: "1-9", add: 9, isNew: false, want: "1-9"},
		{name: "append apart", start: "1-3", add: 5, isNew: true, want: "1-3,5"},
		{name: "extend last", start: "1-3", add: 4, isNew: true, want: "1-4"},
		{name: "prepend apart", start: "5-7", add: 2, isNew: true, want: "2,5-7"},
		{name: "extend first down", start: "5-7", add: 4, isNew: true, want: "4-7"},
		{name: "bridge gap", start: "1-3,5-7", add: 4, isNew: true, want: "1-7"},
		{name: "join left only", start: "1-3,6-7", add: 4, isNew: true, want: "1-4,6-7"},
		{name: "join right only", start: "1-3,6-7", add: 5, isNew: true, want: "1-3,5-7"},
		{name: "insert middle", start: "1,9", add: 5, isNew: true, want: "1,5,9"},
		{name: "bridge singles", start: "0,2,4", add: 3, isNew: true, want: "0,2-4"},
		{name: "negative ignored", start: "1", add: -1, isNew: false, want: "1"},
		{name: "too large ignored", start: "1", add: MaxIndex + 1, isNew: false, want: "1"},
		{name: "max", start: "", add: MaxIndex, isNew: true, want: "2147483646"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.start)
			if err != nil {
				t.Fatal(err)
			}
			before := s.Count()
			if got := s.Add(tc.add); got != tc.isNew {
				t.Errorf("Add(%d) = %v, want %v", tc.add, got, tc.isNew)
			}
			if got := s.String(); got != tc.want {
				t.Errorf("after Add(%d): %q, want %q", tc.add, got, tc.want)
			}
			wantCount := before
			if tc.isNew {
				wantCount++
			}
			if s.Count() != wantCount {
				t.Errorf("Count() = %d, want %d", s.Count(), wantCount)
			}
			if tc.isNew && !s.Has(tc.add) {
				t.Errorf("Has(%d) = false after adding it", tc.add)
			}
		})
	}
}

func TestHas(t *testing.T) {
	s, err := Parse("0-2,5,7-9")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{0: true, 1: true, 2: true, 5: true, 7: true, 8: true, 9: true}
	for i := -2; i <= 12; i++ {
		if got := s.Has(i); got != want[i] {
			t.Errorf("Has(%d) = %v, want %v", i, got, want[i])
		}
	}
	if s.Has(MaxIndex+1) || s.Has(-1<<40) {
		t.Error("Has accepted an index outside the valid range")
	}
}

// TestAddMatchesModel adds random indexes and compares every observable
// with a map-based model after each step.
func TestAddMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 50; round++ {
		var s Set
		model := map[int]bool{}
		limit := 1 + rng.Intn(64)
		for step := 0; step < 100; step++ {
			i := rng.Intn(limit)
			if got, want := s.Add(i), !model[i]; got != want {
				t.Fatalf("round %d: Add(%d) = %v, want %v", round, i, got, want)
			}
			model[i] = true
			if s.Count() != len(model) {
				t.Fatalf("round %d: Count() = %d, want %d", round, s.Count(), len(model))
			}
			var want []int
			for j := 0; j < limit; j++ {
				if model[j] {
					want = append(want, j)
				}
				if s.Has(j) != model[j] {
					t.Fatalf("round %d: Has(%d) = %v, want %v (set %q)", round, j, s.Has(j), model[j], s)
				}
			}
			if got := members(s); !slices.Equal(got, want) {
				t.Fatalf("round %d: members %v, want %v", round, got, want)
			}
			parsed, err := Parse(s.String())
			if err != nil || !parsed.Equal(s) {
				t.Fatalf("round %d: %q does not round-trip: %v", round, s, err)
			}
		}
	}
}

func TestEachStopsEarly(t *testing.T) {
	s, _ := Parse("0-9,20-29")
	var got []int
	s.Each(func(i int) bool {
		got = append(got, i)
		return len(got) < 3
	})
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("Each visited %v, want [0 1 2]", got)
	}
	var runs [][2]int
	s.EachInterval(func(first, last int) bool {
		runs = append(runs, [2]int{first, last})
		return false
	})
	if len(runs) != 1 || runs[0] != [2]int{0, 9} {
		t.Errorf("EachInterval visited %v, want [[0 9]]", runs)
	}
}

func TestEqualAndClone(t *testing.T) {
	a, _ := Parse("1-3,7")
	b, _ := Parse("1,2,3,7")
	if !a.Equal(b) {
		t.Errorf("%q and %q should be equal", a, b)
	}
	var empty Set
	if !empty.Equal(Set{}) || a.Equal(empty) {
		t.Error("Equal mishandles the empty set")
	}
	parsedEmpty, _ := Parse("")
	if !parsedEmpty.Equal(empty) {
		t.Error(`Parse("") is not equal to the zero Set`)
	}
	c := a.Clone()
	c.Add(5)
	if a.Has(5) || a.Equal(c) {
		t.Errorf("modifying a clone changed the original: %q", a)
	}
	d, _ := Parse("1-3,8")
	if a.Equal(d) {
		t.Errorf("%q and %q should differ", a, d)
	}
}

func TestZeroValue(t *testing.T) {
	var s Set
	if s.Count() != 0 || s.String() != "" || s.Has(0) || s.NumIntervals() != 0 {
		t.Error("zero Set is not empty")
	}
	s.Each(func(int) bool { t.Error("Each visited an element of the empty set"); return true })
	if !s.Add(0) || s.String() != "0" {
		t.Error("zero Set is not usable")
	}
}

func TestTextMarshaling(t *testing.T) {
	type status struct {
		Succeeded Set `json:"succeeded"`
	}
	var in status
	for _, i := range []int{0, 1, 2, 4} {
		in.Succeeded.Add(i)
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"succeeded":"0-2,4"}` {
		t.Errorf("json = %s", data)
	}
	var out status
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !out.Succeeded.Equal(in.Succeeded) {
		t.Errorf("round trip gave %q, want %q", out.Succeeded, in.Succeeded)
	}
	if err := json.Unmarshal([]byte(`{"succeeded":"3,1"}`), &out); err == nil {
		t.Error("unmarshaling an unsorted set succeeded")
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "0", "0-4999,5001", "1,3-5,7", "0-1,2", "5-3", "-1", "1,,2", "01",
		"2147483646", "2147483647", "0-2147483646", "1-", ",", "3,1", "0-5,5",
		"9999999999999999999999", "1-2-3", " 1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			if s.Count() != 0 || s.NumIntervals() != 0 {
				t.Fatalf("Parse(%q) returned a non-empty set with error %v", in, err)
			}
			return
		}
		out := s.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", in, out, err)
		}
		if !again.Equal(s) || again.String() != out {
			t.Fatalf("round trip of %q: %q then %q", in, out, again)
		}
		// Count must agree with the intervals, and the intervals must be
		// canonical (sorted, separated by a gap).
		count, prevLast := 0, -2
		s.EachInterval(func(first, last int) bool {
			if first <= prevLast+1 || last < first {
				t.Fatalf("non-canonical interval [%d,%d] after %d in %q", first, last, prevLast, out)
			}
			count += last - first + 1
			prevLast = last
			return true
		})
		if count != s.Count() {
			t.Fatalf("Count() = %d, intervals hold %d", s.Count(), count)
		}
		// Independently of Parse's merging: every element's endpoints are
		// members, and since elements may not overlap, their sizes add up to
		// Count.
		if in == "" {
			return
		}
		total := 0
		for _, elem := range strings.Split(in, ",") {
			lo, hi, isRange := strings.Cut(elem, "-")
			first, err1 := strconv.Atoi(lo)
			last, err2 := first, error(nil)
			if isRange {
				last, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil {
				t.Fatalf("Parse accepted element %q of %q", elem, in)
			}
			if !s.Has(first) || !s.Has(last) {
				t.Fatalf("Parse(%q) = %q lacks an endpoint of %q", in, out, elem)
			}
			total += last - first + 1
		}
		if total != s.Count() {
			t.Fatalf("Parse(%q): elements hold %d indexes, Count() = %d", in, total, s.Count())
		}
	})
}

func benchmarkAdd(b *testing.B, order []int) {
	b.ReportAllocs()
	for b.Loop() {
		var s Set
		for _, i := range order {
			s.Add(i)
		}
		if s.Count() != len(order) || s.NumIntervals() != 1 {
			b.Fatalf("set has %d indexes in %d intervals", s.Count(), s.NumIntervals())
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	const n = 100000
	inOrder := make([]int, n)
	for i := range inOrder {
		inOrder[i] = i
	}
	random := slices.Clone(inOrder)
	rand.New(rand.NewSource(1)).Shuffle(n, func(i, j int) { random[i], random[j] = random[j], random[i] })
	b.Run("order=sequential/n=100000", func(b *testing.B) { benchmarkAdd(b, inOrder) })
	b.Run("order=random/n=100000", func(b *testing.B) { benchmarkAdd(b, random) })
}

func BenchmarkParseString(b *testing.B) {
	// Every other index: the worst case for the text form.
	var s Set
	for i := 0; i < 100000; i += 2 {
		s.Add(i)
	}
	text := s.String()
	b.ReportAllocs()
	for b.Loop() {
		p, err := Parse(text)
		if err != nil || p.String() != text {
			b.Fatal("round trip failed")
		}
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		start   string
		remove  int
		present bool
		want    string
	}{
		{"", 3, false, ""},
		{"3", 3, true, ""},
		{"1-9", 1, true, "2-9"},
		{"1-9", 9, true, "1-8"},
		{"1-9", 5, true, "1-4,6-9"},
		{"1-2,4", 4, true, "1-2"},
		{"1-2,4", 3, false, "1-2,4"},
		{"1", -1, false, "1"},
	}
	for _, tc := range tests {
		s, err := Parse(tc.start)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Remove(tc.remove); got != tc.present || s.String() != tc.want {
			t.Errorf("%q.Remove(%d) = %v, leaving %q; want %v, %q", tc.start, tc.remove, got, s.String(), tc.present, tc.want)
		}
	}
}

// Random adds and removes agree with a map, and the set stays canonical.
func TestAddRemoveMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 50; round++ {
		var s Set
		model := map[int]bool{}
		limit := 1 + rng.Intn(64)
		for step := 0; step < 200; step++ {
			i := rng.Intn(limit)
			if rng.Intn(2) == 0 {
				if got := s.Add(i); got != !model[i] {
					t.Fatalf("round %d: Add(%d) = %v", round, i, got)
				}
				model[i] = true
			} else {
				if got := s.Remove(i); got != model[i] {
					t.Fatalf("round %d: Remove(%d) = %v", round, i, got)
				}
				delete(model, i)
			}
			var want []int
			for j := 0; j < limit; j++ {
				if model[j] {
					want = append(want, j)
				}
			}
			if got := members(s); !slices.Equal(got, want) || s.Count() != len(want) {
				t.Fatalf("round %d: members %v (count %d), want %v", round, got, s.Count(), want)
			}
			parsed, err := Parse(s.String())
			if err != nil || !parsed.Equal(s) {
				t.Fatalf("round %d: %q does not round-trip: %v", round, s, err)
			}
		}
	}
}
