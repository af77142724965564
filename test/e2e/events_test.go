package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// TestEventsOfLargeExecution: an Execution of more Jobs than the event
// client's spam budget per object (25) still records its
// ExecutionSucceeded event, while its per-Job JobCreated events stay
// bounded by that budget rather than growing with its Jobs.
func TestEventsOfLargeExecution(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-events")
	k := f.Kubectl
	const jobs = 60
	k.Apply(controlManifest("many", nil, controlTask("a", echoes("e", jobs))), "-n", ns)
	f.WaitForExecutionPhase(ns, "many", 3*time.Minute, v1alpha1.PhaseSucceeded)

	var counts map[string]int
	f.WaitFor(30*time.Second, "an ExecutionSucceeded event on many", func() (bool, string) {
		out := k.MustRun("get", "events", "-n", ns, "--field-selector", "involvedObject.kind=Execution,involvedObject.name=many",
			"-o", `jsonpath={range .items[*]}{.reason}{"\t"}{.count}{"\n"}{end}`).Stdout
		counts = map[string]int{}
		for _, line := range strings.Split(out, "\n") {
			if line == "" {
				continue
			}
			reason, count, _ := strings.Cut(line, "\t")
			n, err := strconv.Atoi(count)
			if err != nil {
				n = 1 // events without a count are one occurrence
			}
			counts[reason] += n
		}
		return counts["ExecutionSucceeded"] == 1, strconv.Quote(out)
	})
	// The spam filter's burst is 25 per Execution and reason; the run is
	// far shorter than the five minutes it takes to earn one more.
	if n := counts["JobCreated"]; n == 0 || n > 25 {
		t.Errorf("JobCreated recorded %d times for %d jobs; want 1 to 25 (the spam filter's budget bounds them)", n, jobs)
	}
	t.Logf("events of many: %v", counts)
}
