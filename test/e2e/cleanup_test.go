package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
	"kubegene.io/kubegene/test/e2e/framework"
)

// withParallelism gives a controlTask a task-level parallelism.
func withParallelism(task string, n int) string {
	return strings.Replace(task, "    type: Job\n", fmt.Sprintf("    type: Job\n    parallelism: %d\n", n), 1)
}

// succeededCount is the number of jobs of task the stored status records
// as succeeded.
func succeededCount(t testing.TB, e *v1alpha1.Execution, task string) int {
	t.Helper()
	set, err := indexset.Parse(taskStatusOf(e, task).Succeeded)
	if err != nil {
		t.Fatalf("task %s succeeded %q: %v", task, taskStatusOf(e, task).Succeeded, err)
	}
	return set.Count()
}

// TestJobCleanup: an Execution with `jobCleanup: OnJobSuccess` and
// `failurePolicy: ContinueIndependent`, a task of 20 jobs (parallelism 2)
// and an independent task whose one job fails. execution-apiserver is
// restarted once 5 jobs have succeeded. At the end the Execution is Failed
// (the one failed job) with every other vertex Succeeded in status.vertices;
// no succeeded Job and no pod of one is left, the failed Job and its pod
// are; and no Job was ever created twice (every Job name seen by a watch
// and a list every second has one UID).
func TestJobCleanup(t *testing.T) {
	f := framework.New(t)
	k := f.Kubectl
	ns := f.CreateNamespace("e2e-cleanup")
	const (
		name      = "tidy"
		jobs      = 20
		restartAt = 5
		badJob    = name + ".bad.0"
	)

	rec := ctlRecordJobUIDs(t, k, ns)
	t0 := time.Now()
	k.Apply(controlManifest(name, []string{"jobCleanup: OnJobSuccess", "failurePolicy: ContinueIndependent"},
		withParallelism(controlTask("many", echoes("m", jobs)), 2),
		controlTask("bad", []string{"exit 1"})), "-n", ns)

	// Mid-run: 5 successes stored, and the Jobs of some already deleted.
	f.WaitFor(2*time.Minute, fmt.Sprintf("%d jobs of task many to succeed", restartAt), func() (bool, string) {
		e := f.GetExecution(ns, name)
		return succeededCount(t, e, "many") >= restartAt, fmt.Sprint(e.Status.Tasks)
	})
	f.WaitFor(30*time.Second, "a succeeded Job to be deleted", func() (bool, string) {
		seen, _, _ := rec.snapshot()
		left := ctlJobs(t, k, ns)
		var gone []string
		for jobName := range seen {
			if left[jobName] == nil {
				gone = append(gone, jobName)
			}
		}
		return len(gone) > 0, fmt.Sprintf("seen %d, left %v", len(seen), ctlSortedKeys(left))
	})
	before := rec.Count()
	restartBegan := time.Now()
	t.Logf("%d jobs exist or existed after %s; restarting execution-apiserver", before, restartBegan.Sub(t0).Round(time.Millisecond))
	f.Stack.Restart(t, "execution-apiserver")
	restartEnded := time.Now()

	e := f.WaitForExecutionPhase(ns, name, 3*time.Minute, v1alpha1.PhaseFailed, v1alpha1.PhaseSucceeded)
	t.Logf("execution %s: phase %s after %s", name, e.Status.Phase, time.Since(t0).Round(time.Millisecond))
	if e.Status.Phase != v1alpha1.PhaseFailed || !strings.HasPrefix(e.Status.Message, "job "+badJob+" failed") {
		t.Errorf("phase %q message %q, want Failed naming %s", e.Status.Phase, e.Status.Message, badJob)
	}
	many, bad := taskStatusOf(e, "many"), taskStatusOf(e, "bad")
	if want := fmt.Sprintf("0-%d", jobs-1); many.Created != want || many.Succeeded != want || many.Failed != "" {
		t.Errorf("status.tasks many %+v, want created and succeeded %s", many, want)
	}
	if bad.Created != "0" || bad.Failed != "0" {
		t.Errorf("status.tasks bad %+v, want created and failed 0", bad)
	}
	// status.vertices, computed on read, still shows every job.
	if len(e.Status.Vertices) != jobs+1 {
		t.Errorf("%d vertices, want %d", len(e.Status.Vertices), jobs+1)
	}
	for i := range jobs {
		if v, ok := e.Status.Vertices[fmt.Sprintf("%s.many.%d", name, i)]; !ok || v.Phase != v1alpha1.PhaseSucceeded {
			t.Errorf("vertex %s.many.%d: %+v, want Succeeded", name, i, v)
		}
	}
	if v := e.Status.Vertices[badJob]; v.Phase != v1alpha1.PhaseFailed {
		t.Errorf("vertex %s: %+v, want Failed", badJob, v)
	}

	// Only the failed Job and its pod are left.
	var left []string
	f.WaitFor(time.Minute, "only the failed job and its pod left", func() (bool, string) {
		r := k.For(nil).Run("get", "jobs,pods", "-n", ns, "-o", "name")
		if !r.Success() {
			return false, r.Combined()
		}
		left = strings.Fields(r.Stdout)
		for _, obj := range left {
			if obj != "job.batch/"+badJob && !strings.HasPrefix(obj, "pod/"+badJob+"-") {
				return false, strings.Join(left, " ")
			}
		}
		return true, strings.Join(left, " ")
	})
	t.Logf("left in %s: %v", ns, left)
	if !slices.Contains(left, "job.batch/"+badJob) || len(left) < 2 {
		t.Errorf("left in %s: %v, want the failed Job %s and its pod", ns, left, badJob)
	}
	if job := ctlJobs(t, k, ns)[badJob]; job == nil || !ctlCondition(job, batchv1.JobFailed) {
		t.Errorf("job %s: %+v, want it kept and Failed", badJob, job)
	}

	// A late duplicate would come right after the end; give it a moment.
	time.Sleep(3 * time.Second)
	rec.Stop()
	uids, firstSeen, watchRestarts := rec.snapshot()
	t.Logf("recorded %d job names; the job watch was restarted %d times", len(uids), watchRestarts)
	want := []string{badJob}
	for i := range jobs {
		want = append(want, fmt.Sprintf("%s.many.%d", name, i))
	}
	slices.Sort(want)
	if got := ctlSortedKeys(uids); !slices.Equal(got, want) {
		t.Errorf("job names seen: %v, want %v", got, want)
	}
	for jobName, u := range uids {
		if len(u) != 1 {
			t.Errorf("job %s was created %d times: uids %v", jobName, len(u), u)
		}
	}
	createdAfterEnd := 0
	for _, at := range firstSeen {
		if at.After(restartEnded) {
			createdAfterEnd++
		}
	}
	t.Logf("jobs first seen: %d before the restart ended, %d after", len(firstSeen)-createdAfterEnd, createdAfterEnd)
	if createdAfterEnd == 0 {
		t.Errorf("the restart did not hit the middle of the run (%d jobs before it began, none after it ended): make the execution longer", before)
	}
	r := k.Run("get", "events", "-n", ns, "--field-selector", "involvedObject.name="+name, "-o", `jsonpath={range .items[*]}{.reason}{"\n"}{end}`)
	if !strings.Contains(r.Stdout, "CleaningUpJobs") {
		t.Errorf("no CleaningUpJobs event on %s: %v", name, strings.Fields(r.Stdout))
	}
}

// cachedJobs is the number of Jobs the controller keeps in its cache
// (kubegene_controller_cached_jobs).
func cachedJobs(t testing.TB, f *framework.Framework) float64 {
	return ctlMetric(t, f, "kubegene_controller_cached_jobs")
}

// ctlMetric is the sum of the series of metric name on the
// execution-apiserver's /metrics.
func ctlMetric(t testing.TB, f *framework.Framework, name string) float64 {
	t.Helper()
	return framework.SumSeries(ctlServerMetrics(t, f.Stack), name, nil)
}

// TestFinishedJobsLeaveTheControllerCache: under `jobCleanup: Never` (the
// default) an Execution of 40 succeeding jobs and one failing job keeps
// all 41 Jobs in the cluster, while the controller's cache
// (kubegene_controller_cached_jobs) ends with only the failed one more than
// before it ran; after a restart of execution-apiserver, whose controller
// lists every Job again, too, leaving the stored successes out as it lists
// them (kubegene_controller_jobs_left_out_total). status.vertices still
// shows every job.
func TestFinishedJobsLeaveTheControllerCache(t *testing.T) {
	f := framework.New(t)
	k := f.Kubectl
	ns := f.CreateNamespace("e2e-forget")
	const (
		name = "kept"
		jobs = 40
	)
	// A one-job Execution that succeeded shows that the controller runs
	// and its cache is filled: before that the metric may read 0.
	controllerRuns := func(probe string) {
		t.Helper()
		k.Apply(controlManifest(probe, nil, controlTask("one", []string{"echo one"})), "-n", ns)
		if e := f.WaitForExecutionPhase(ns, probe, 2*time.Minute, v1alpha1.PhaseSucceeded, v1alpha1.PhaseFailed); e.Status.Phase != v1alpha1.PhaseSucceeded {
			t.Fatalf("execution %s: phase %s, want Succeeded", probe, e.Status.Phase)
		}
	}
	controllerRuns("before")
	// Other tests' namespaces may still be going away: the cache can only
	// shrink meanwhile, so what it holds now is a bound.
	before := cachedJobs(t, f)
	k.Apply(controlManifest(name, []string{"failurePolicy: ContinueIndependent"},
		withParallelism(controlTask("many", echoes("m", jobs)), 10),
		controlTask("bad", []string{"exit 1"})), "-n", ns)
	e := f.WaitForExecutionPhase(ns, name, 3*time.Minute, v1alpha1.PhaseFailed, v1alpha1.PhaseSucceeded)
	if e.Status.Phase != v1alpha1.PhaseFailed || succeededCount(t, e, "many") != jobs {
		t.Fatalf("phase %s, tasks %+v: want Failed with all %d jobs of many succeeded", e.Status.Phase, e.Status.Tasks, jobs)
	}

	bound := before + 1 // the failed Job
	cachedAfter := func(when string, probes int) {
		t.Helper()
		var n float64
		// At least the failed Job is cached: a metric that is not
		// reported (read as 0) cannot pass.
		f.WaitFor(time.Minute, fmt.Sprintf("the controller's cache to hold 1 to %v Jobs %s", bound, when), func() (bool, string) {
			n = cachedJobs(t, f)
			return n >= 1 && n <= bound, fmt.Sprintf("%v cached", n)
		})
		t.Logf("%s: %v Jobs cached (%v before the execution ran)", when, n, before)
		if n := len(ctlJobs(t, k, ns)); n != jobs+1+probes {
			t.Errorf("%d Jobs in %s %s, want all %d kept", n, ns, when, jobs+1+probes)
		}
		e := f.GetExecution(ns, name)
		if len(e.Status.Vertices) != jobs+1 || e.Status.Vertices[name+".many.0"].Phase != v1alpha1.PhaseSucceeded {
			t.Errorf("%s: %d vertices, %s.many.0 %+v: want %d, Succeeded", when, len(e.Status.Vertices), name, e.Status.Vertices[name+".many.0"], jobs+1)
		}
	}
	cachedAfter("once the execution finished", 1)
	f.Stack.Restart(t, "execution-apiserver")
	controllerRuns("after")
	cachedAfter("after a restart", 2)
	// The new controller's informer left out, as it listed them, at
	// least this namespace's stored successes: the 40 and the probe's.
	if n := ctlMetric(t, f, "kubegene_controller_jobs_left_out_total"); n < jobs+1 {
		t.Errorf("kubegene_controller_jobs_left_out_total %v after the restart, want at least %d: stored successes entered the cache", n, jobs+1)
	}
}
