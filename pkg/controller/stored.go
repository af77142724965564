package controller

import (
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/dag"
	executionlisters "kubegene.io/kubegene/pkg/generated/listers/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
)

// storedSucceeded holds the succeeded sets of one stored Execution, per
// task, parsed on demand. Every status write changes the Execution's
// resourceVersion; the sets of the new one are parsed again as they are
// asked for, so a reader of a few tasks never parses them all.
type storedSucceeded struct {
	rv   string
	sets map[int]indexset.Set
}

// task is the succeeded set of task t, named name, in stored. A set that
// does not parse is empty: nothing is taken as stored from it.
func (ss *storedSucceeded) task(stored *v1alpha1.Execution, name string, t int) indexset.Set {
	if ss.sets == nil || ss.rv != stored.ResourceVersion {
		ss.rv, ss.sets = stored.ResourceVersion, map[int]indexset.Set{}
	}
	if set, ok := ss.sets[t]; ok {
		return set
	}
	var set indexset.Set
	for k := range stored.Status.Tasks {
		if ts := &stored.Status.Tasks[k]; ts.Name == name {
			set, _ = indexset.Parse(ts.Succeeded)
			break
		}
	}
	ss.sets[t] = set
	return set
}

// storedSuccesses tells whether a Job's success is in the stored status of
// the Execution that controls it, as the Execution informer's cache shows
// it. Such a Job needs no record in the Job cache under jobCleanup Never
// (evict.go): the Job informer leaves it out as it lists, and
// a finished Execution's sync evicts the records it still finds.
//
// It keeps, per Execution, the graph that parses Job names and the
// succeeded sets of the last stored status read: O(tasks), never O(jobs),
// for at most maxStoredViews Executions. A list meets the Jobs of one
// Execution together (they share its name as a prefix), and a watch those
// of the few Executions that run, so a few views serve them. It is safe
// for concurrent use: the Job informer's watch and the workers both ask.
type storedSuccesses struct {
	executions executionlisters.ExecutionLister

	mu    sync.Mutex
	views map[cache.ObjectName]*storedView
}

// maxStoredViews bounds the Executions storedSuccesses keeps a view of:
// a cluster may keep the finished Jobs of thousands.
const maxStoredViews = 64

// storedView is what storedSuccesses keeps of one Execution.
type storedView struct {
	uid        types.UID
	generation int64
	// graph is nil for a spec that does not build: no job of it ran.
	graph     *dag.Graph
	succeeded storedSucceeded
}

func newStoredSuccesses(executions executionlisters.ExecutionLister) *storedSuccesses {
	return &storedSuccesses{executions: executions, views: map[cache.ObjectName]*storedView{}}
}

// has reports whether the success of Job name of e is in e's stored
// status, for an Execution whose succeeded Jobs stay (jobCleanup Never:
// under OnJobSuccess the cleanup needs their records to delete them). The
// caller has checked that the Job succeeded and that e controls it.
func (ss *storedSuccesses) has(e *v1alpha1.Execution, name string) bool {
	if e.Spec.JobCleanup == v1alpha1.JobCleanupOnJobSuccess || len(e.Status.Tasks) == 0 {
		return false
	}
	key := cache.NewObjectName(e.Namespace, e.Name)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v := ss.views[key]
	if v == nil || v.uid != e.UID || v.generation != e.Generation {
		if v == nil && len(ss.views) >= maxStoredViews {
			for k := range ss.views { // any one: it is built again if asked
				delete(ss.views, k)
				break
			}
		}
		v = &storedView{uid: e.UID, generation: e.Generation}
		v.graph, _ = buildGraph(e)
		ss.views[key] = v
	}
	if v.graph == nil {
		return false
	}
	t, i, ok := v.graph.ParseJobName(name)
	return ok && v.succeeded.task(e, v.graph.TaskName(t), t).Has(i)
}

// hasJob reports whether job is a succeeded Job whose success is in the
// stored status of the Execution that controls it.
func (ss *storedSuccesses) hasJob(job *batchv1.Job) bool {
	if outcome, _, _ := outcomeOf(job); outcome != jobSucceeded {
		return false
	}
	ref := controllerOf(job)
	name := job.Labels[LabelExecution]
	if ref == nil || name == "" || ref.Name != name {
		return false
	}
	e, err := ss.executions.Executions(job.Namespace).Get(name)
	if err != nil || e.UID != ref.UID {
		return false
	}
	return ss.has(e, job.Name)
}

// forget drops what is kept of the Execution key, once it is deleted.
func (ss *storedSuccesses) forget(key cache.ObjectName) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.views, key)
}
