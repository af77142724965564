package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"kubegene.io/kubegene/test/e2e/framework"
	"kubegene.io/kubegene/test/seed"
)

func mustTable(t *testing.T, out string) *framework.Table {
	t.Helper()
	table, err := framework.ParseTable(out)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// seedJobs are the Jobs (vertices) of the seed's Execution name, sorted.
func seedJobs(name string) []string {
	var jobs []string
	for job := range seed.Children {
		if strings.HasPrefix(job, name+".") {
			jobs = append(jobs, job)
		}
	}
	slices.Sort(jobs)
	return jobs
}

// seedEdges are the edges of the seed's Execution name, "PARENT->CHILD",
// sorted.
func seedEdges(name string) []string {
	var edges []string
	for _, job := range seedJobs(name) {
		for _, child := range seed.Children[job] {
			edges = append(edges, job+"->"+child)
		}
	}
	slices.Sort(edges)
	return edges
}
