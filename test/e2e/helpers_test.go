package e2e

import (
	"regexp"
	"testing"

	"kubegene.io/kubegene/test/e2e/framework"
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
