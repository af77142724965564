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
// labelled as ours, in every namespace), indexed by Execution. Its list and its watch leave out
// the Jobs that leaveOut names, except for deletions, so that the cache
// never keeps a Job that is gone.
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
				return newFilteredWatch(w, func(ev watch.Event) bool {
					job, ok := ev.Object.(*batchv1.Job)
					return !ok || ev.Type == watch.Deleted || !leaveOut(job)
				}), nil
			},
		}
		return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client),
			&batchv1.Job{}, cache.SharedIndexInformerOptions{ResyncPeriod: resync, Indexers: cache.Indexers{executionIndex: indexByExecution}})
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
