package e2e

// BenchmarkJobCreationBurst measures what the API server alone allows for
// a `whole` dependency of 100 Jobs: the round trips of 100 Job creations
// sent at once, as the controller sends the Jobs that one completion makes
// ready, on the otherwise idle local stack. The Jobs are suspended, so no
// Pods follow and only the creations are measured: a floor under the
// controller's dependency-to-start latency for such a fan-out.
//
//	go test -run '^$' -bench JobCreationBurst -benchtime 5x ./test/e2e/
//
// Reported: p50, p99 and max of the round trips (ms), over all bursts.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/test/e2e/framework"
)

const burstJobs = 100

func BenchmarkJobCreationBurst(b *testing.B) {
	f := framework.New(b)
	kube, _ := ctlBenchClients(b, f.Stack)
	ns := f.CreateNamespace("e2e-burst")
	jobs := kube.BatchV1().Jobs(ns)

	var all []time.Duration
	for n := 0; n < b.N; n++ {
		latencies, err := burstCreate(jobs, fmt.Sprintf("burst.r%d", n))
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, latencies...)
		// Let the server settle between bursts.
		b.StopTimer()
		time.Sleep(time.Second)
		b.StartTimer()
	}
	slices.Sort(all)
	at := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
	b.Logf("%d bursts of %d concurrent Job creations: p50 %.1f ms, p99 %.1f ms, max %.1f ms", b.N, burstJobs, at(0.5), at(0.99), at(1))
}

// burstCreate creates burstJobs suspended Jobs named PREFIX.I at once and
// returns the round trip of each creation.
func burstCreate(jobs batchclient.JobInterface, prefix string) ([]time.Duration, error) {
	list := make([]*batchv1.Job, burstJobs)
	for i := range list {
		list[i] = ctlNaiveJob(fmt.Sprintf("%s.%d", prefix, i), "busybox", "true")
		list[i].Spec.Suspend = ptr.To(true)
	}
	return createAtOnce(jobs, list)
}

// createAtOnce creates list with one request per Job, all sent at once, as
// the controller sends the Jobs that one completion makes ready, and
// returns the round trip of each creation.
func createAtOnce(jobs batchclient.JobInterface, list []*batchv1.Job) ([]time.Duration, error) {
	latencies := make([]time.Duration, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, job := range list {
		wg.Go(func() {
			start := time.Now()
			if _, err := jobs.Create(context.Background(), job, metav1.CreateOptions{}); err != nil {
				errs[i] = fmt.Errorf("creating job %s: %w", job.Name, err)
			}
			latencies[i] = time.Since(start)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return latencies, nil
}
