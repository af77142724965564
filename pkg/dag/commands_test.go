package dag

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func iter(template string, vars ...[]string) Commands {
	return Commands{Iteration: &Iteration{Template: template, Vars: vars}}
}

// Job i takes the values of the combination whose first list varies
// fastest, as KubeGene documents.
func TestIterationOrder(t *testing.T) {
	c := iter("bwa mem ${1} ${2}", []string{"s1", "s2"}, []string{"chr1", "chr2", "chr3"})
	want := []string{
		"bwa mem s1 chr1", "bwa mem s2 chr1",
		"bwa mem s1 chr2", "bwa mem s2 chr2",
		"bwa mem s1 chr3", "bwa mem s2 chr3",
	}
	if c.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", c.Len(), len(want))
	}
	for i, w := range want {
		if got := c.At(i); got != w {
			t.Errorf("At(%d) = %q, want %q", i, got, w)
		}
	}
	if c.At(-1) != "" || c.At(6) != "" {
		t.Errorf("out of range: %q %q", c.At(-1), c.At(6))
	}
}

func TestSubstitution(t *testing.T) {
	tests := []struct {
		template string
		want     string
	}{
		{"${1}-${1}", "a-a"},                                         // a value used twice
		{"echo $${1} ${1}", "echo ${1} a"},                           // escaped reference
		{"echo $$${1}", "echo $${1}"},                                // "$", then an escaped reference
		{"x${0} ${01} ${-1} ${ } ${1", "x${0} ${01} ${-1} ${ } ${1"}, // not references
		{"${2}${1}", "ba"},
		{"plain", "plain"},
		{"${12345678901234}", "${12345678901234}"},
	}
	for _, tc := range tests {
		c := iter(tc.template, []string{"a"}, []string{"b"})
		if got := c.At(0); got != tc.want {
			t.Errorf("%q: At(0) = %q, want %q", tc.template, got, tc.want)
		}
	}
}

func TestLenOverflow(t *testing.T) {
	big := make([]string, 50000)
	c := iter("${1}${2}${3}", big, big, big) // 1.25e14 jobs
	if got := c.Len(); got != MaxJobs+1 {
		t.Errorf("Len() of 50,000³ = %d, want MaxJobs+1", got)
	}
	if got := iter("x").Len(); got != 0 {
		t.Errorf("no lists: Len() = %d, want 0", got)
	}
	if got := (Commands{List: []string{"a", "b"}}).Len(); got != 2 {
		t.Errorf("list: Len() = %d, want 2", got)
	}
}

func TestMaxLen(t *testing.T) {
	c := iter("run ${1} on ${2} again ${1}", []string{"a", "abcd"}, []string{"xy"})
	longest := 0
	for i := 0; i < c.Len(); i++ {
		longest = max(longest, len(c.At(i)))
	}
	if got := c.MaxLen(); got != longest {
		t.Errorf("MaxLen() = %d, the longest command is %d", got, longest)
	}
	if got := iter("a $${1}", []string{"v"}).MaxLen(); got != len("a ${1}") {
		t.Errorf("MaxLen() with an escape = %d", got)
	}
}

// Every combination comes out exactly once, whatever the list sizes.
func TestIterationIsABijection(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 50; round++ {
		vars := make([][]string, 1+rng.Intn(4))
		for k := range vars {
			vars[k] = make([]string, 1+rng.Intn(5))
			for j := range vars[k] {
				vars[k][j] = fmt.Sprintf("v%d_%d", k, j)
			}
		}
		refs := make([]string, len(vars))
		for k := range vars {
			refs[k] = fmt.Sprintf("${%d}", k+1)
		}
		c := iter(strings.Join(refs, " "), vars...)
		want := 1
		for _, v := range vars {
			want *= len(v)
		}
		seen := map[string]bool{}
		for i := 0; i < c.Len(); i++ {
			seen[c.At(i)] = true
		}
		if c.Len() != want || len(seen) != want {
			t.Fatalf("round %d: %d jobs, %d distinct commands, want %d", round, c.Len(), len(seen), want)
		}
		// The first list varies fastest.
		if len(vars[0]) > 1 && !strings.HasPrefix(c.At(1), vars[0][1]) {
			t.Fatalf("round %d: job 1 = %q, want the first list's second value first", round, c.At(1))
		}
	}
}

func TestReferences(t *testing.T) {
	it := &Iteration{Template: "${2} $${3} ${1} ${2}"}
	if got := it.References(); !slices.Equal(got, []int{2, 1, 2}) {
		t.Errorf("References() = %v", got)
	}
}
