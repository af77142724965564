package controller

import (
	"context"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// newJobInformer returns the informer of the controller's Jobs (those
// labelled as ours, in every namespace), indexed by Execution. Its list,
// and the Added events of its watch, leave out the Jobs that leaveOut
// names: those are what a start or a relist (a list, or a watch-list's
// initial events) brings. Every other event passes (see keepJobEvent).
//
// The informer factory builds it (InformerFor), which sets its transform
// and starts and stops it with the factory's other informers.
func newJobInformer(leaveOut func(*batchv1.Job) bool) func(kubernetes.Interface, time.Duration) cache.SharedIndexInformer {
	return func(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		jobs := client.BatchV1().Jobs(metav1.NamespaceAll)
		lw := &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
				opts.LabelSelector = jobSelector
				list, err := jobs.List(ctx, opts)
				if err != nil {
					return nil, err
				}
				kept := list.Items[:0]
				for i := range list.Items {
					if !leaveOut(&list.Items[i]) {
						kept = append(kept, list.Items[i])
					}
				}
				clear(list.Items[len(kept):])
				list.Items = kept
				return list, nil
			},
			WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
				opts.LabelSelector = jobSelector
				w, err := jobs.Watch(ctx, opts)
				if err != nil {
					return nil, err
				}
				return newFilteredWatch(w, keepJobEvent(leaveOut)), nil
			},
		}
		return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client),
			&batchv1.Job{}, cache.SharedIndexInformerOptions{ResyncPeriod: resync, Indexers: cache.Indexers{executionIndex: indexByExecution}})
	}
}

// keepJobEvent is the Job watch's filter: it leaves out the Added events
// of the Jobs leaveOut names, and keeps every other event. An Added event
// is how a watch-list brings each Job as a start or a relist lists it, and
// what it leaves out the informer's replace then drops from the cache (or
// never adds). A Modified event must pass: the cache may hold, or be about
// to hold from an event still queued, an older record of that Job, which
// would then stay stale; a record that comes back by one is evicted again
// (evict.go). Deletions, bookmarks (among them the end of a watch-list's
// initial events) and errors are not the filter's to judge.
func keepJobEvent(leaveOut func(*batchv1.Job) bool) func(watch.Event) bool {
	return func(ev watch.Event) bool {
		job, ok := ev.Object.(*batchv1.Job)
		return ev.Type != watch.Added || !ok || !leaveOut(job)
	}
}

// filteredWatch passes on the events of a watch that keep accepts. Unlike
// watch.Filter it stops sending once stopped, so its goroutine ends even
// when nobody reads any more.
type filteredWatch struct {
	in       watch.Interface
	out      chan watch.Event
	stop     chan struct{}
	stopOnce sync.Once
}

func newFilteredWatch(in watch.Interface, keep func(watch.Event) bool) watch.Interface {
	w := &filteredWatch{in: in, out: make(chan watch.Event), stop: make(chan struct{})}
	go w.run(keep)
	return w
}

func (w *filteredWatch) run(keep func(watch.Event) bool) {
	defer close(w.out)
	defer w.in.Stop()
	for {
		select {
		case <-w.stop:
			return
		case ev, ok := <-w.in.ResultChan():
			if !ok {
				return
			}
			if !keep(ev) {
				continue
			}
			select {
			case w.out <- ev:
			case <-w.stop:
				return
			}
		}
	}
}

// ResultChan implements watch.Interface.
func (w *filteredWatch) ResultChan() <-chan watch.Event { return w.out }

// Stop implements watch.Interface.
func (w *filteredWatch) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
}
