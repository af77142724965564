package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/component-base/metrics/legacyregistry"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
)

// deleteRecorder records the controller's Job deletions and checks, at the
// moment of each, that the Job's success is in the Execution as the server
// stores it (the fake clientset's tracker).
type deleteRecorder struct {
	f *fixture

	mu      sync.Mutex
	deleted []string
	// problems are deletions that broke a rule.
	problems []string
}

func (f *fixture) recordDeletes() *deleteRecorder {
	r := &deleteRecorder{f: f}
	f.kube.PrependReactor("delete", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		d := a.(clienttesting.DeleteAction)
		r.check(d.GetNamespace(), d.GetName(), d.GetDeleteOptions())
		return false, nil, nil
	})
	return r
}

func (r *deleteRecorder) check(ns, name string, opts metav1.DeleteOptions) {
	var problems []string
	if p := opts.PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground {
		problems = append(problems, fmt.Sprintf("%s: propagation %v, want Background", name, p))
	}
	if opts.Preconditions == nil || opts.Preconditions.UID == nil {
		problems = append(problems, name+": no UID precondition")
	} else if job, err := r.f.kube.Tracker().Get(batchv1.SchemeGroupVersion.WithResource("jobs"), ns, name); err == nil &&
		job.(*batchv1.Job).UID != *opts.Preconditions.UID {
		problems = append(problems, fmt.Sprintf("%s: precondition UID %s, the Job's is %s", name, *opts.Preconditions.UID, job.(*batchv1.Job).UID))
	}
	// EXEC.TASK.INDEX: the task's succeeded set as stored right now.
	parts := strings.Split(name, ".")
	index, _ := strconv.Atoi(parts[len(parts)-1])
	obj, err := r.f.exec.Tracker().Get(v1alpha1.SchemeGroupVersion.WithResource("executions"), ns, parts[0])
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s: reading its execution: %v", name, err))
	} else {
		succeeded, _ := indexset.Parse(taskStatus(&obj.(*v1alpha1.Execution).Status, parts[1]).Succeeded)
		if !succeeded.Has(index) {
			problems = append(problems, fmt.Sprintf("%s deleted before its success was stored (stored succeeded %q)", name, succeeded.String()))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleted = append(r.deleted, name)
	r.problems = append(r.problems, problems...)
}

func (r *deleteRecorder) snapshot() (deleted, problems []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.deleted), slices.Clone(r.problems)
}

// assertDeleted checks that exactly want were deleted, each once and by the
// rules.
func (r *deleteRecorder) assertDeleted(t *testing.T, want ...string) {
	t.Helper()
	deleted, problems := r.snapshot()
	for _, p := range problems {
		t.Error(p)
	}
	assertSameSet(t, "jobs deleted", deleted, want...)
}

// jobNames lists the Jobs in the fake cluster.
func (f *fixture) jobNames() []string {
	f.t.Helper()
	list, err := f.kube.BatchV1().Jobs(testNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var names []string
	for _, j := range list.Items {
		names = append(names, j.Name)
	}
	slices.Sort(names)
	return names
}

func (f *fixture) waitJobs(want ...string) {
	f.t.Helper()
	slices.Sort(want)
	f.waitFor(fmt.Sprintf("jobs %v", want), func() bool { return slices.Equal(f.jobNames(), want) })
}

func cleanedUpTotal(t *testing.T) float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == "kubegene_controller_jobs_cleaned_up_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// OnJobSuccess deletes each succeeded Job, with background propagation and
// its UID as precondition, only once its success is stored; a failed Job
// stays; the Execution ends as it would have with every Job kept.
func TestJobCleanupDeletesSucceededJobsOnceStored(t *testing.T) {
	t.Parallel()
	before := cleanedUpTotal(t)
	e := newExecution("exec-clean", task("a", 3), task("b", 2, whole("a")), task("bad", 1))
	e.Spec.JobCleanup = v1alpha1.JobCleanupOnJobSuccess
	e.Spec.FailurePolicy = v1alpha1.ContinueIndependent
	f := newFixture(t, nil, e)
	deletes := f.recordDeletes()
	f.run()

	assertSameSet(t, "roots created", f.waitCreated(4), "exec-clean.a.0", "exec-clean.a.1", "exec-clean.a.2", "exec-clean.bad.0")
	// Within the status throttle of the first write: the deletion waits
	// for the next write, which the reactor checks.
	f.succeed("exec-clean.a.0")
	f.waitJobs("exec-clean.a.1", "exec-clean.a.2", "exec-clean.bad.0")
	f.waitEvent("Normal CleaningUpJobs")
	f.finish("exec-clean.bad.0", batchv1.JobFailed, "BackoffLimitExceeded", "")
	f.succeed("exec-clean.a.1", "exec-clean.a.2")
	assertSameSet(t, "after a", f.waitCreated(6)[4:], "exec-clean.b.0", "exec-clean.b.1")
	f.succeed("exec-clean.b.0", "exec-clean.b.1")

	got := f.waitStatus("exec-clean", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	f.waitJobs("exec-clean.bad.0")
	if a, b, bad := taskStatus(&got.Status, "a"), taskStatus(&got.Status, "b"), taskStatus(&got.Status, "bad"); a.Succeeded != "0-2" || b.Succeeded != "0-1" || bad.Failed != "0" {
		t.Errorf("stored tasks %+v: want a 0-2 and b 0-1 succeeded, bad 0 failed", got.Status.Tasks)
	}
	deletes.assertDeleted(t, "exec-clean.a.0", "exec-clean.a.1", "exec-clean.a.2", "exec-clean.b.0", "exec-clean.b.1")
	if n := len(f.created()); n != 6 {
		t.Errorf("creations %v, want each of the 6 jobs once", f.created())
	}
	if n := f.countEvents("Normal CleaningUpJobs"); n != 1 {
		t.Errorf("%d CleaningUpJobs events, want 1", n)
	}
	if d := cleanedUpTotal(t) - before; d < 5 {
		t.Errorf("jobs_cleaned_up_total grew by %v, want at least 5", d)
	}
	f.waitFor("the state dropped once nothing is left to delete", func() bool { return f.states() == 0 })
}

// Never (the default, and unset) deletes nothing.
func TestJobCleanupNeverKeepsJobs(t *testing.T) {
	t.Parallel()
	for _, policy := range []v1alpha1.JobCleanupPolicy{"", v1alpha1.JobCleanupNever} {
		t.Run(fmt.Sprintf("%q", policy), func(t *testing.T) {
			t.Parallel()
			e := newExecution("exec-keep", task("a", 2), task("b", 1, whole("a")))
			e.Spec.JobCleanup = policy
			f := newFixture(t, nil, e)
			deletes := f.recordDeletes()
			f.run()
			f.waitCreated(2)
			f.succeed("exec-keep.a.0", "exec-keep.a.1")
			f.waitCreated(3)
			f.succeed("exec-keep.b.0")
			f.waitStatus("exec-keep", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
			f.waitFor("the state dropped", func() bool { return f.states() == 0 })
			deletes.assertDeleted(t)
			if got := f.jobNames(); len(got) != 3 {
				t.Errorf("jobs %v, want all 3 kept", got)
			}
		})
	}
}

// A new controller (restart, new leader) over an Execution whose succeeded
// Jobs were partly deleted: the stored successes stand, nothing runs
// twice, nothing fails, and the Jobs left are deleted once their success is
// stored.
func TestJobCleanupAfterRestart(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-clean-restart", task("a", 6), task("b", 1, whole("a")))
	e.Spec.JobCleanup = v1alpha1.JobCleanupOnJobSuccess
	started := metav1.NewTime(time.Now().Add(-time.Minute))
	e.Status = v1alpha1.ExecutionStatus{
		Phase:     v1alpha1.PhaseRunning,
		StartedAt: &started,
		// a.0, a.1: succeeded, stored, Jobs deleted. a.2: succeeded after
		// this status was written. a.3: stored, not deleted yet. a.4:
		// stored, and the cache still shows it running (its deletion by
		// the previous leader comes as the next event). a.5 runs.
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-5", Succeeded: "0-1,3-4"}},
	}
	jobs := []runtime.Object{
		ownedJob(t, e, 0, 2, batchv1.JobComplete),
		ownedJob(t, e, 0, 3, batchv1.JobComplete),
		ownedJob(t, e, 0, 4),
		ownedJob(t, e, 0, 5),
	}
	for i, j := range jobs {
		j.(*batchv1.Job).UID = types.UID("job-uid-" + strconv.Itoa(i))
	}
	f := newFixture(t, jobs, e)
	deletes := f.recordDeletes()
	f.run()

	// a.2's success is written, then its Job and a.3's are deleted.
	f.waitTask("exec-clean-restart", "a", "0-5", "0-4", "")
	f.waitJobs("exec-clean-restart.a.4", "exec-clean-restart.a.5")
	// The previous leader deletes a.4 (the event carries the stale,
	// running Job): a recorded success, not a job deleted while it ran.
	if err := f.kube.Tracker().Delete(batchv1.SchemeGroupVersion.WithResource("jobs"), testNamespace, "exec-clean-restart.a.4"); err != nil {
		t.Fatal(err)
	}
	f.waitJobs("exec-clean-restart.a.5")
	if got := f.created(); len(got) != 0 {
		t.Fatalf("jobs created on restart: %v", got)
	}
	f.succeed("exec-clean-restart.a.5")
	if got := f.waitCreated(1); got[0] != "exec-clean-restart.b.0" {
		t.Fatalf("created %v, want b.0", got)
	}
	f.succeed("exec-clean-restart.b.0")
	got := f.waitStatus("exec-clean-restart", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	f.waitJobs()
	if a := taskStatus(&got.Status, "a"); a.Succeeded != "0-5" || a.Failed != "" {
		t.Errorf("task a %+v, want 0-5 succeeded and none failed", a)
	}
	deletes.assertDeleted(t, "exec-clean-restart.a.2", "exec-clean-restart.a.3", "exec-clean-restart.a.5", "exec-clean-restart.b.0")
	for _, s := range f.writtenStatuses() {
		if s.Phase == v1alpha1.PhaseFailed {
			t.Fatalf("a status write failed the execution: %q", s.Message)
		}
	}
	if got := f.created(); len(got) != 1 {
		t.Errorf("creations %v, want only b.0", got)
	}
}

// A controller that starts after the Execution finished, but before its
// last succeeded Jobs were deleted, deletes them.
func TestJobCleanupOfFinishedExecution(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-clean-done", task("a", 2))
	e.Spec.JobCleanup = v1alpha1.JobCleanupOnJobSuccess
	finished := metav1.NewTime(time.Now())
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseSucceeded, Message: MessageSucceeded, StartedAt: &finished, FinishedAt: &finished,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0-1"}}}
	f := newFixture(t, []runtime.Object{ownedJob(t, e, 0, 1, batchv1.JobComplete)}, e)
	deletes := f.recordDeletes()
	f.run()
	f.waitJobs()
	f.waitFor("the state dropped", func() bool { return f.states() == 0 })
	deletes.assertDeleted(t, "exec-clean-done.a.1")
	if got := f.created(); len(got) != 0 {
		t.Errorf("jobs created: %v", got)
	}
	if got := f.execution("exec-clean-done"); got.Status.Phase != v1alpha1.PhaseSucceeded {
		t.Errorf("phase %s, want Succeeded still", got.Status.Phase)
	}
}

// A deletion that fails is retried, also after the Execution finished;
// NotFound counts as done.
func TestJobCleanupRetriesFailedDeletions(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-clean-retry", task("a", 2))
	e.Spec.JobCleanup = v1alpha1.JobCleanupOnJobSuccess
	f := newFixture(t, nil, e)
	var mu sync.Mutex
	refused := 0
	f.kube.PrependReactor("delete", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		switch name := a.(clienttesting.DeleteAction).GetName(); {
		case name == "exec-clean-retry.a.1" && refused < 2:
			refused++
			return true, nil, apierrors.NewInternalError(fmt.Errorf("etcd is busy"))
		case name == "exec-clean-retry.a.0":
			// Someone else deleted it first.
			if err := f.kube.Tracker().Delete(batchv1.SchemeGroupVersion.WithResource("jobs"), testNamespace, name); err != nil {
				t.Error(err)
			}
			return true, nil, apierrors.NewNotFound(batchv1.Resource("jobs"), name)
		}
		return false, nil, nil
	})
	f.run()
	f.waitCreated(2)
	f.succeed("exec-clean-retry.a.0")
	f.waitJobs("exec-clean-retry.a.1")
	// The last one: its deletion fails after the final status write.
	f.succeed("exec-clean-retry.a.1")
	f.waitStatus("exec-clean-retry", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	f.waitJobs()
	f.waitFor("the state dropped", func() bool { return f.states() == 0 })
	mu.Lock()
	defer mu.Unlock()
	if refused != 2 {
		t.Errorf("refused %d deletions, want 2 before it worked", refused)
	}
}
