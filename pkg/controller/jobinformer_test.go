package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	executionlisters "kubegene.io/kubegene/pkg/generated/listers/execution/v1alpha1"
)

// addedJobs records the Jobs the controller's Job informer hands to its
// handlers as added, by name.
type addedJobs struct {
	mu    sync.Mutex
	names []string
}

func (f *fixture) recordAddedJobs() *addedJobs {
	a := &addedJobs{}
	informer := f.ctrl.jobFactory.InformerFor(&batchv1.Job{}, nil)
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.names = append(a.names, obj.(*cachedJob).name)
		},
	}); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (a *addedJobs) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.names)
}

// touch changes a Job in the cluster without changing its outcome, as a
// label added by a user would.
func (f *fixture) touch(name string) {
	f.t.Helper()
	jobs := f.kube.BatchV1().Jobs(testNamespace)
	job, err := jobs.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	job.Annotations = map[string]string{"touched": time.Now().String()}
	if _, err := jobs.Update(context.Background(), job, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// A new controller (restart, new leader) over stored successes: its Job
// informer lists them but never adds them to the cache; it adds the Jobs
// whose success is not stored, a namesake of another Execution (whose
// success the stored status holds for the job of that name), and the
// running ones, and creates nothing. A later update of a Job left out
// brings its record back, and the finished Execution's sync evicts it
// again; the running Execution goes on to succeed.
func TestStoredSuccessesNeverEnterTheJobCache(t *testing.T) {
	t.Parallel()
	jobs, finished, running := restartScene(t)
	f := newFixture(t, jobs, finished, running)
	added := f.recordAddedJobs()
	f.run()

	f.waitTask("exec-running", "a", "0-3", "0-2", "")
	assertSameSet(t, "Jobs added to the cache", added.seen(), "exec-done.a.3", "exec-running.a.2", "exec-running.a.3")
	f.waitCached("exec-done.a.3", "exec-running.a.3")
	if got := f.created(); len(got) != 0 {
		t.Errorf("jobs created on restart: %v", got)
	}

	if got := f.execution("exec-done"); got.Status.Phase != v1alpha1.PhaseSucceeded {
		t.Errorf("exec-done phase %s, want Succeeded still", got.Status.Phase)
	}

	f.touch("exec-done.a.0")
	f.waitFor("the update of exec-done.a.0 to reach the handlers", func() bool {
		return slices.Contains(added.seen(), "exec-done.a.0")
	})
	f.waitCached("exec-done.a.3", "exec-running.a.3")
	f.succeed("exec-running.a.3")
	f.waitStatus("exec-running", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	f.waitCached("exec-done.a.3")
}

// restartScene is what a new controller finds: exec-done succeeded (its
// own a.3 is gone, the Job of that name is an earlier Execution's), and
// exec-running has a.0 and a.1 stored as succeeded, a.2 succeeded after its
// last status write, and a.3 running.
func restartScene(t *testing.T) (jobs []runtime.Object, finished, running *v1alpha1.Execution) {
	done := metav1.NewTime(time.Now())
	finished = newExecution("exec-done", task("a", 4))
	finished.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseSucceeded, Message: MessageSucceeded, StartedAt: &done, FinishedAt: &done,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-3", Succeeded: "0-3"}}}
	running = newExecution("exec-running", task("a", 4))
	running.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseRunning, StartedAt: &done,
		// a.2 succeeded after this status was written; a.3 runs.
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-3", Succeeded: "0-1"}}}
	for i := range 3 {
		jobs = append(jobs, ownedJob(t, finished, 0, i, batchv1.JobComplete))
	}
	// exec-done's own a.3 is gone; the Job of that name is an earlier
	// Execution's.
	namesake := ownedJob(t, finished, 0, 3, batchv1.JobComplete)
	namesake.OwnerReferences[0].UID = types.UID("earlier-uid")
	jobs = append(jobs, namesake)
	for i := range 3 {
		jobs = append(jobs, ownedJob(t, running, 0, i, batchv1.JobComplete))
	}
	jobs = append(jobs, ownedJob(t, running, 0, 3))
	return jobs, finished, running
}

// A record the cache holds is kept up to date even once its success is
// stored: the eviction, not the informer, takes it out, so that no stale
// record stays behind.
func TestCachedRecordIsNotLeftOut(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-kept", task("a", 1))
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseSucceeded, Message: MessageSucceeded,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0", Succeeded: "0"}}}
	job := ownedJob(t, e, 0, 0, batchv1.JobComplete)
	f := newFixture(t, nil, e)
	if err := f.ctrl.executionFactory.Execution().V1alpha1().Executions().Informer().GetIndexer().Add(e); err != nil {
		t.Fatal(err)
	}
	if !f.ctrl.stored.hasJob(job) {
		t.Fatal("the stored success of exec-kept.a.0 is not found")
	}
	if !f.ctrl.leavesOut(job) {
		t.Error("a stored success the cache does not hold is not left out")
	}
	if err := f.ctrl.jobs.indexer.Add(recordOf(job)); err != nil {
		t.Fatal(err)
	}
	if f.ctrl.leavesOut(job) {
		t.Error("a stored success the cache holds is left out: its record would go stale")
	}
}

// storedSuccesses follows the stored status: a new resourceVersion is read
// again, a namesake Execution gets its own graph, OnJobSuccess keeps every
// record, and names that are not the Execution's jobs are never stored.
func TestStoredSuccessesFollowTheStoredStatus(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-s", task("a", 3), task("b", 3, iterate("a")))
	e.ResourceVersion = "10"
	e.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "0-2", Succeeded: "0"}}
	ss := newStoredSuccesses(executionlisters.NewExecutionLister(cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})))

	check := func(e *v1alpha1.Execution, name string, want bool) {
		t.Helper()
		if got := ss.has(e, name); got != want {
			t.Errorf("%s at resourceVersion %s, uid %s: stored %v, want %v", name, e.ResourceVersion, e.UID, got, want)
		}
	}
	check(e, "exec-s.a.0", true)
	check(e, "exec-s.a.1", false)
	check(e, "exec-s.b.0", false) // no status for b yet
	for _, name := range []string{"exec-s.a.3", "exec-s.c.0", "other.a.0", "exec-s.a.00", "exec-s.a"} {
		check(e, name, false)
	}

	later := e.DeepCopy()
	later.ResourceVersion = "11"
	later.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "0-2", Succeeded: "0-2"}, {Name: "b", Created: "0", Succeeded: "0"}}
	check(later, "exec-s.a.2", true)
	check(later, "exec-s.b.0", true)

	// A namesake's b has 5 jobs: b.4 parses with its graph only.
	namesake := newExecution("exec-s", task("b", 5))
	namesake.UID, namesake.ResourceVersion = "namesake-uid", "12"
	namesake.Status.Tasks = []v1alpha1.TaskStatus{{Name: "b", Created: "0-4", Succeeded: "4"}}
	check(namesake, "exec-s.b.4", true)
	check(namesake, "exec-s.a.0", false) // a is not a task of the namesake

	tidy := later.DeepCopy()
	tidy.Spec.JobCleanup = v1alpha1.JobCleanupOnJobSuccess
	check(tidy, "exec-s.a.0", false)

	ss.forget(cache.NewObjectName(e.Namespace, e.Name))
	if len(ss.views) != 0 {
		t.Errorf("%d views kept after forget, want none", len(ss.views))
	}

	// Many finished Executions: a bounded number of views, each still
	// right when asked again.
	for i := range 2 * maxStoredViews {
		many := newExecution(fmt.Sprintf("exec-%d", i), task("a", 2))
		many.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "1"}}
		check(many, many.Name+".a.1", true)
		check(many, many.Name+".a.0", false)
	}
	if len(ss.views) > maxStoredViews {
		t.Errorf("%d views kept, want at most %d", len(ss.views), maxStoredViews)
	}
}

// The Job watch leaves out only the Added events of the Jobs leaveOut
// names; bookmarks (the end of a watch-list's initial events among them),
// errors, updates and deletions of those Jobs pass.
func TestKeepJobEvent(t *testing.T) {
	t.Parallel()
	keep := keepJobEvent(func(job *batchv1.Job) bool { return job.Name == "stored" })
	stored := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "stored"}}
	other := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "running"}}
	bookmark := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "7",
		Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}
	for _, c := range []struct {
		ev   watch.Event
		want bool
	}{
		{watch.Event{Type: watch.Added, Object: stored}, false},
		{watch.Event{Type: watch.Added, Object: other}, true},
		{watch.Event{Type: watch.Modified, Object: stored}, true},
		{watch.Event{Type: watch.Deleted, Object: stored}, true},
		{watch.Event{Type: watch.Bookmark, Object: bookmark}, true},
		{watch.Event{Type: watch.Error, Object: &metav1.Status{Message: "too old"}}, true},
	} {
		if got := keep(c.ev); got != c.want {
			t.Errorf("%s %T %q: kept %v, want %v", c.ev.Type, c.ev.Object, nameOf(c.ev.Object), got, c.want)
		}
	}
}

func nameOf(obj runtime.Object) string {
	if job, ok := obj.(*batchv1.Job); ok {
		return job.Name
	}
	return ""
}

// filteredWatch passes on what keep accepts, in order, ends when its
// source ends, and once stopped ends and stops its source even when
// nobody reads.
func TestFilteredWatch(t *testing.T) {
	t.Parallel()
	job := func(name string) *batchv1.Job { return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	src := watch.NewFakeWithChanSize(4, false)
	w := newFilteredWatch(src, func(ev watch.Event) bool { return ev.Object.(*batchv1.Job).Name != "out" })
	src.Add(job("in-1"))
	src.Modify(job("out"))
	src.Delete(job("in-2"))
	src.Stop()
	var got []string
	for ev := range w.ResultChan() {
		got = append(got, string(ev.Type)+" "+ev.Object.(*batchv1.Job).Name)
	}
	if want := []string{"ADDED in-1", "DELETED in-2"}; !slices.Equal(got, want) {
		t.Errorf("events passed: %v, want %v", got, want)
	}

	src = watch.NewFakeWithChanSize(4, false)
	w = newFilteredWatch(src, func(watch.Event) bool { return true })
	src.Add(job("never-read"))
	w.Stop()
	w.Stop() // twice is fine
	// Nothing reads: the watch ends by itself, and stops its source.
	if err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) { return src.IsStopped(), nil }); err != nil {
		t.Fatal("a stopped watch nobody reads did not stop its source")
	}
	for range w.ResultChan() { // ends: the channel is closed
	}
}
