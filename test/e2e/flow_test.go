package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
	"kubegene.io/kubegene/test/e2e/framework"
)

// TestFlowControlSharesActiveJobs: with at most 20 active Jobs over the
// server, a huge Execution holds all 20 and a 3-job Execution created then
// waits; as 3 of the huge one's Jobs go away, the freed slots go to the
// small one, not back to the huge one, and the small one finishes while
// the huge one still runs; then the huge one takes the whole bound again,
// and no more.
func TestFlowControlSharesActiveJobs(t *testing.T) {
	f := framework.New(t)
	f.Stack.RestartWithFlags(t, "execution-apiserver", "--max-active-jobs=20 --max-active-jobs-per-execution=20")
	ns := f.CreateNamespace("e2e-flow")
	k := f.Kubectl
	runForever := make([]string, 200)
	for i := range runForever {
		runForever[i] = "run-until-deleted"
	}
	k.Apply(controlManifest("huge", []string{"failurePolicy: ContinueIndependent"}, controlTask("a", runForever)), "-n", ns)
	huge := f.GetExecution(ns, "huge")
	f.WaitFor(time.Minute, "20 jobs of huge", func() (bool, string) {
		n := jobCount(f, ns, huge)
		return n == 20, fmt.Sprint(n)
	})

	k.Apply(controlManifest("small", nil, controlTask("a", echoes("s", 3))), "-n", ns)
	small := f.GetExecution(ns, "small")
	time.Sleep(5 * time.Second)
	if n := jobCount(f, ns, small); n != 0 {
		t.Fatalf("small has %d jobs while huge holds all 20 active slots", n)
	}
	if n := jobCount(f, ns, huge); n != 20 {
		t.Fatalf("huge has %d jobs, want the bound of 20", n)
	}

	// Three of huge's Jobs go away (their jobs fail; under
	// ContinueIndependent huge goes on): the slots are small's.
	for i := range 3 {
		k.MustRun("delete", "job", fmt.Sprintf("huge.a.%d", i), "-n", ns, "--wait=false")
	}
	f.WaitForExecutionPhase(ns, "small", time.Minute, v1alpha1.PhaseSucceeded)
	e := f.GetExecution(ns, "huge")
	if e.Status.Phase != v1alpha1.PhaseRunning || !strings.HasPrefix(taskStatusOf(e, "a").Failed, "0-2") {
		t.Fatalf("huge: %s, failed %q; want Running with jobs 0-2 failed", e.Status.Phase, taskStatusOf(e, "a").Failed)
	}
	// Once small is done, huge takes the whole bound again, and no more.
	f.WaitFor(time.Minute, "huge back at 20 active jobs", func() (bool, string) {
		e = f.GetExecution(ns, "huge")
		active := indexCount(t, taskStatusOf(e, "a").Created) - indexCount(t, taskStatusOf(e, "a").Failed)
		return active == 20, fmt.Sprint(e.Status.Tasks)
	})
	time.Sleep(3 * time.Second)
	e = f.GetExecution(ns, "huge")
	if active := indexCount(t, taskStatusOf(e, "a").Created) - indexCount(t, taskStatusOf(e, "a").Failed); active != 20 {
		t.Errorf("huge has %d active jobs, want the bound of 20 (created %q, failed %q)", active, taskStatusOf(e, "a").Created, taskStatusOf(e, "a").Failed)
	}
}

// indexCount counts the indexes of a stored index set, e.g. "0-4,7" has 6.
func indexCount(t *testing.T, set string) int {
	t.Helper()
	parsed, err := indexset.Parse(set)
	if err != nil {
		t.Fatalf("stored index set %q: %v", set, err)
	}
	return parsed.Count()
}
