package controller

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics/legacyregistry"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// cachedNames are the names of the Jobs the controller's cache holds.
func (f *fixture) cachedNames() []string { return cachedJobNames(f.ctrl.jobs) }

// cachedJobNames are the names of the Jobs jc holds, sorted.
func cachedJobNames(jc jobCache) []string {
	var names []string
	for _, obj := range jc.indexer.List() {
		names = append(names, obj.(*cachedJob).name)
	}
	slices.Sort(names)
	return names
}

// failStatusWrites makes every status write fail with err while fail is
// set, and counts those writes.
func (f *fixture) failStatusWrites(err error) (fail *atomic.Bool, failed *atomic.Int32) {
	fail, failed = &atomic.Bool{}, &atomic.Int32{}
	f.exec.PrependReactor("update", "executions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && fail.Load() {
			failed.Add(1)
			return true, nil, err
		}
		return false, nil, nil
	})
	return fail, failed
}

// waitCached waits until the controller's cache holds exactly names.
func (f *fixture) waitCached(names ...string) {
	f.t.Helper()
	slices.Sort(names)
	var got []string
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		got = f.cachedNames()
		return slices.Equal(got, names), nil
	})
	if err != nil {
		f.t.Fatalf("Jobs in the controller's cache: %v, want %v", got, names)
	}
}

// Under jobCleanup Never the succeeded Jobs stay in the cluster but leave
// the controller's cache once their success is stored; running and failed
// Jobs stay in the cache.
func TestStoredSuccessesLeaveTheJobCache(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-evict", task("a", 3), task("b", 1, whole("a")), task("c", 1))
	e.Spec.FailurePolicy = v1alpha1.ContinueIndependent
	f := newFixture(t, nil, e)
	f.run()
	f.waitCreated(4)
	f.waitCached("exec-evict.a.0", "exec-evict.a.1", "exec-evict.a.2", "exec-evict.c.0")

	f.succeed("exec-evict.a.0", "exec-evict.a.1", "exec-evict.a.2")
	f.waitTask("exec-evict", "a", "0-2", "0-2", "")
	f.waitCreated(5)
	f.waitCached("exec-evict.b.0", "exec-evict.c.0")

	f.finish("exec-evict.c.0", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	f.succeed("exec-evict.b.0")
	got := f.waitStatus("exec-evict", "Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	if b := taskStatus(&got.Status, "b"); b.Succeeded != "0" {
		t.Fatalf("task b %+v, want 0 succeeded", b)
	}
	f.waitCached("exec-evict.c.0")
	if jobs := f.jobNames(); len(jobs) != 5 {
		t.Errorf("Jobs in the cluster: %v, want all 5 kept", jobs)
	}
}

// A success stays in the cache as long as no status holding it is stored:
// a rebuild in between needs the Job to know it.
func TestSuccessesStayCachedUntilStored(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-unstored", task("a", 2), task("b", 1, whole("a")))
	f := newFixture(t, nil, e)
	refuse, refused := f.failStatusWrites(errors.New("etcd is down"))
	f.run()
	f.waitCreated(2)
	f.waitStatus("exec-unstored", "Running", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseRunning })

	refuse.Store(true)
	f.succeed("exec-unstored.a.0")
	// The second refusal comes from a later sync: the first one, which
	// saw a.0 succeed, has ended.
	f.waitFor("two status writes refused", func() bool { return refused.Load() >= 2 })
	if got := f.cachedNames(); !slices.Contains(got, "exec-unstored.a.0") {
		t.Fatalf("cache %v lost a.0, whose success is not stored", got)
	}
	refuse.Store(false)
	f.waitTask("exec-unstored", "a", "0-1", "0", "")
	f.waitCached("exec-unstored.a.1")
}

// An evicted Job that the informer brings back (it changed, or the Jobs
// were listed again) leaves the cache again at the end of the sync that
// sees it, even while the status waits to be written.
func TestEvictedJobSeenAgainLeavesAgain(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-again", task("a", 2))
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseRunning,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0"}}}
	done := recordOf(ownedJob(t, e, 0, 0, batchv1.JobComplete))
	running := recordOf(ownedJob(t, e, 0, 1))
	c := &Controller{jobs: jobCache{indexer: cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc,
		cache.Indexers{executionIndex: indexByExecution})}}
	for _, job := range []*cachedJob{done, running} {
		if err := c.jobs.indexer.Add(job); err != nil {
			t.Fatal(err)
		}
	}

	s := newExecutionState(e.UID)
	s.rebuild(e, c.jobs.ofExecution(cache.MetaObjectToName(e)))
	c.evictStoredSuccesses(e.Namespace, s, statusInCache)
	if got := cachedJobNames(c.jobs); !slices.Equal(got, []string{"exec-again.a.1"}) {
		t.Fatalf("after the first sync the cache holds %v, want only a.1", got)
	}

	// The informer stores the Job again and hands it to the handlers.
	if err := c.jobs.indexer.Add(done); err != nil {
		t.Fatal(err)
	}
	s.apply(done.observation(time.Now()))
	c.evictStoredSuccesses(e.Namespace, s, statusPending)
	if got := cachedJobNames(c.jobs); !slices.Equal(got, []string{"exec-again.a.1"}) {
		t.Errorf("after the Job was seen again the cache holds %v, want only a.1", got)
	}
	if !s.tasks[0].Succeeded.Has(0) || s.succeeded != 1 {
		t.Errorf("state: a succeeded %s (%d in all), want a.0 once", s.tasks[0].Succeeded.String(), s.succeeded)
	}
}

// Which Job updates reach the Execution. The informer's Get and Update are
// not atomic with an eviction: an update handled over an evicted record puts
// it back and hands the handlers an old and a cur that both show the success.
// Dropping that update would leave the record cached for good.
func TestJobUpdatesThatReachTheExecution(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-updates", task("a", 2))
	blocked := newExecution("exec-blocked", task("a", 1))
	withPods := func(e *v1alpha1.Execution) *cachedJob {
		job := ownedJob(t, e, 0, 0)
		job.Status.Active = 1
		return recordOf(job)
	}
	running, active := recordOf(ownedJob(t, e, 0, 0)), withPods(e)
	succeeded := recordOf(ownedJob(t, e, 0, 0, batchv1.JobComplete))
	failed := recordOf(ownedJob(t, e, 0, 0, batchv1.JobFailed))
	adopted := ownedJob(t, e, 0, 0)
	adopted.OwnerReferences[0].UID = types.UID("namesake-uid")
	namesake := recordOf(adopted)
	blockedRunning, blockedActive := recordOf(ownedJob(t, blocked, 0, 0)), withPods(blocked)

	waiting := newExecutionState(blocked.UID)
	waiting.podRefusals.Store(1)
	c := &Controller{states: map[cache.ObjectName]*executionState{
		cache.MetaObjectToName(e):       newExecutionState(e.UID),
		cache.MetaObjectToName(blocked): waiting,
	}}
	for _, tc := range []struct {
		name     string
		old, cur *cachedJob
		want     bool
	}{
		{"first pod, nothing waits for it", running, active, false},
		{"progress of a running Job", active, active, false},
		{"success", active, succeeded, true},
		{"failure", active, failed, true},
		{"a succeeded Job stored again over its eviction", succeeded, succeeded, true},
		{"a failed Job updated again", failed, failed, false},
		{"another owner", running, namesake, true},
		{"first pod of a Job whose pods were refused", blockedRunning, blockedActive, true},
	} {
		if got := c.jobUpdateMatters(tc.old, tc.cur); got != tc.want {
			t.Errorf("%s: matters %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Under OnJobSuccess the succeeded Jobs are deleted, not evicted: the
// cleanup, which runs after the eviction, reads their UIDs from the cache.
func TestCleanupDeletesRatherThanEvicts(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-tidy", task("a", 2))
	e.Spec.JobCleanup = v1alpha1.JobCleanupOnJobSuccess
	f := newFixture(t, nil, e)
	deletes := f.recordDeletes()
	f.run()
	f.waitCreated(2)
	f.succeed("exec-tidy.a.0", "exec-tidy.a.1")
	f.waitStatus("exec-tidy", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	f.waitJobs()
	deletes.assertDeleted(t, "exec-tidy.a.0", "exec-tidy.a.1")
}

// A status write that finds the Execution gone while the cache still shows
// it retires the state: later Job events do not build a new state from the
// stale copy (whose status may lack successes whose Jobs are evicted), so
// nothing is written or created for it again; the cache's deletion event
// then drops the state.
func TestExecutionGoneAtStatusWriteIsNotRebuilt(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-gone", task("a", 3))
	f := newFixture(t, nil, e)
	gone, writes := f.failStatusWrites(apierrors.NewNotFound(v1alpha1.Resource("executions"), "exec-gone"))
	f.run()
	f.waitCreated(3)
	f.waitStatus("exec-gone", "Running", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseRunning })

	gone.Store(true)
	f.succeed("exec-gone.a.0")
	f.waitFor("a status write finding the execution gone", func() bool { return writes.Load() >= 1 })
	f.succeed("exec-gone.a.1", "exec-gone.a.2")
	f.waitFor("the cache to show a.1 and a.2 succeeded", func() bool {
		for _, name := range []string{"exec-gone.a.1", "exec-gone.a.2"} {
			if job, ok := f.ctrl.jobs.get(testNamespace, name); !ok || job.outcome != jobSucceeded {
				return false
			}
		}
		return true
	})
	// Each sync of a rebuilt state would write at once (nothing throttles
	// the first write of a state).
	time.Sleep(300 * time.Millisecond)
	if n := writes.Load(); n != 1 {
		t.Errorf("%d status writes after the first found the execution gone, want none", n-1)
	}
	if n := f.states(); n != 1 {
		t.Errorf("%d states, want the retired one", n)
	}
	if err := f.exec.Tracker().Delete(v1alpha1.SchemeGroupVersion.WithResource("executions"), testNamespace, "exec-gone"); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the state dropped once the cache shows the deletion", func() bool { return f.states() == 0 })
	if got := f.created(); len(got) != 3 {
		t.Errorf("jobs created: %v, want the first 3 only", got)
	}
}

// cachedJobsMetric reads kubegene_controller_cached_jobs as /metrics serves
// it; ok is false if it is not reported.
func cachedJobsMetric(t *testing.T) (n float64, ok bool) {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == "kubegene_controller_cached_jobs" && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// kubegene_controller_cached_jobs reports the running controller's cache,
// and nothing while none runs. Not parallel: it reads the one running
// controller's.
func TestCachedJobsMetric(t *testing.T) {
	e := newExecution("exec-metric", task("a", 3))
	f := newFixture(t, nil, e)
	if n, ok := cachedJobsMetric(t); ok {
		t.Fatalf("cached_jobs reported as %v before a controller runs", n)
	}
	f.run()
	f.waitCreated(3)
	f.waitFor("cached_jobs 3", func() bool { n, ok := cachedJobsMetric(t); return ok && n == 3 })
	f.succeed("exec-metric.a.0", "exec-metric.a.1")
	f.waitFor("cached_jobs 1", func() bool { n, ok := cachedJobsMetric(t); return ok && n == 1 })
}
