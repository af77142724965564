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
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	executionlisters "kubegene.io/kubegene/pkg/generated/listers/execution/v1alpha1"
)

// informerNotices records what the controller's Job informer hands to its
// handlers, by Job name.
type informerNotices struct {
	mu                      sync.Mutex
	added, updated, deleted []string
}

func (f *fixture) recordInformerNotices() *informerNotices {
	n := &informerNotices{}
	name := func(obj any) string {
		if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			return tombstone.Key
		}
		return obj.(*cachedJob).name
	}
	informer := f.ctrl.jobFactory.InformerFor(&batchv1.Job{}, nil)
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { n.mu.Lock(); n.added = append(n.added, name(obj)); n.mu.Unlock() },
		UpdateFunc: func(_, cur any) {
			n.mu.Lock()
			n.updated = append(n.updated, name(cur))
			n.mu.Unlock()
		},
		DeleteFunc: func(obj any) { n.mu.Lock(); n.deleted = append(n.deleted, name(obj)); n.mu.Unlock() },
	}); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (n *informerNotices) seen() (added, updated, deleted []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.added), slices.Clone(n.updated), slices.Clone(n.deleted)
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
// informer lists them but never adds them to the cache, nor a later update
// of one; it adds the Jobs whose success is not stored, a namesake of
// another Execution, and the running ones. A deletion of a Job left out
// still reaches the handlers.
func TestStoredSuccessesNeverEnterTheJobCache(t *testing.T) {
	t.Parallel()
	jobs, finished, running := restartScene(t)
	f := newFixture(t, jobs, finished, running)
	notices := f.recordInformerNotices()
	f.run()

	f.waitTask("exec-running", "a", "0-3", "0-2", "")
	added, _, _ := notices.seen()
	assertSameSet(t, "Jobs added to the cache", added, "exec-done.a.3", "exec-running.a.2", "exec-running.a.3")

	// Watch events come in order: once the update of a.3 is seen, that of
	// exec-done.a.0 before it was seen or left out.
	f.touch("exec-done.a.0")
	f.touch("exec-running.a.3")
	f.waitFor("the update of exec-running.a.3", func() bool {
		_, updated, _ := notices.seen()
		return slices.Contains(updated, "exec-running.a.3")
	})
	added, updated, _ := notices.seen()
	if slices.Contains(added, "exec-done.a.0") || slices.Contains(updated, "exec-done.a.0") {
		t.Errorf("the update of a stored success reached the cache: added %v, updated %v", added, updated)
	}
	if err := f.kube.BatchV1().Jobs(testNamespace).Delete(context.Background(), "exec-done.a.1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the deletion of exec-done.a.1 to reach the handlers", func() bool {
		_, _, deleted := notices.seen()
		return slices.Contains(deleted, "exec-done.a.1")
	})
	f.waitCached("exec-done.a.3", "exec-running.a.3")
	if got := f.created(); len(got) != 0 {
		t.Errorf("jobs created on restart: %v", got)
	}
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

	namesake := newExecution("exec-s", task("b", 1))
	namesake.UID, namesake.ResourceVersion = "namesake-uid", "12"
	namesake.Status.Tasks = []v1alpha1.TaskStatus{{Name: "b", Created: "0", Succeeded: "0"}}
	check(namesake, "exec-s.b.0", true)
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
