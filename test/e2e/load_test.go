package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	versioned "kubegene.io/kubegene/pkg/generated/clientset/versioned"
	"kubegene.io/kubegene/test/e2e/framework"
)

// loadStats collects what the load clients saw.
type loadStats struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration // by verb
	codes     map[int]int
	problems  []string
	kept      []string // created and deliberately not deleted
}

func (s *loadStats) record(verb string, d time.Duration, err error) {
	code := 200
	var status apierrors.APIStatus
	switch {
	case err == nil:
	case errors.As(err, &status):
		code = int(status.Status().Code)
	default:
		code = -1 // no HTTP answer: a transport error
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies[verb] = append(s.latencies[verb], d)
	s.codes[code]++
	if code >= 500 || code < 0 {
		s.problems = append(s.problems, fmt.Sprintf("%s: %v", verb, err))
	}
}

func (s *loadStats) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// TestLoadThroughTheAggregator: 50 clients create, read, list and delete
// Executions through kube-apiserver's aggregator for a bounded time (60 s,
// E2E_LOAD_DURATION to change it): no 5xx, no transport errors, no object
// lost or duplicated; latency percentiles are logged. The stack's server
// runs with its controller off for the duration, so the load measures the
// API path, not Job creation.
func TestLoadThroughTheAggregator(t *testing.T) {
	f := framework.New(t)
	s := f.Stack
	duration := 60 * time.Second
	if v := os.Getenv("E2E_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		duration = d
	}
	const clients = 50

	s.Stop(t, "execution-apiserver")
	port := s.EnvValue("EXEC_PORT", "28443")
	r := startReplicaWith(t, s, "load", port, "--enable-controller=false")
	f.WaitFor(time.Minute, "the APIService to be Available again", func() (bool, string) {
		res := f.Kubectl.Run("get", "executions", "-A")
		return res.Success(), res.Combined() + r.logTail(5)
	})

	ns := f.CreateNamespace("e2e-load")
	cfg, err := clientcmd.BuildConfigFromFlags("", s.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling: the server is under test
	client := versioned.NewForConfigOrDie(cfg).ExecutionV1alpha1().Executions(ns)

	stats := &loadStats{latencies: map[string][]time.Duration{}, codes: map[int]int{}}
	ctx := context.Background()
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				name := fmt.Sprintf("load-%d-%d", c, i)
				e := &v1alpha1.Execution{
					ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: v1alpha1.ExecutionSpec{Tasks: []v1alpha1.Task{
						{Name: "a", Image: "busybox", Commands: []string{"echo a1", "echo a2"}},
						{Name: "b", Image: "busybox", Commands: []string{"echo b1", "echo b2"},
							Dependents: []v1alpha1.Dependent{{Target: "a", Type: v1alpha1.DependTypeIterate}}},
					}},
				}
				t0 := time.Now()
				_, err := client.Create(ctx, e, metav1.CreateOptions{})
				stats.record("create", time.Since(t0), err)
				if err != nil {
					continue
				}
				t0 = time.Now()
				got, err := client.Get(ctx, name, metav1.GetOptions{})
				stats.record("get", time.Since(t0), err)
				if apierrors.IsNotFound(err) {
					stats.problem("created %s then not found: lost", name)
				} else if err == nil && len(got.Status.Vertices) != 4 {
					stats.problem("%s read with %d vertices", name, len(got.Status.Vertices))
				}
				if i%10 == 0 {
					t0 = time.Now()
					_, err := client.List(ctx, metav1.ListOptions{Limit: 50})
					stats.record("list", time.Since(t0), err)
				}
				if i%5 == 0 {
					stats.mu.Lock()
					stats.kept = append(stats.kept, name)
					stats.mu.Unlock()
					continue
				}
				t0 = time.Now()
				err = client.Delete(ctx, name, metav1.DeleteOptions{})
				stats.record("delete", time.Since(t0), err)
				if apierrors.IsNotFound(err) {
					stats.problem("delete of %s found nothing: lost", name)
				}
			}
		}(c)
	}
	wg.Wait()

	var total int
	for verb, ds := range stats.latencies {
		total += len(ds)
		t.Logf("%-6s n=%-6d p50=%-8s p99=%-8s max=%s", verb, len(ds), percentile(ds, 0.5).Round(time.Millisecond),
			percentile(ds, 0.99).Round(time.Millisecond), percentile(ds, 1).Round(time.Millisecond))
	}
	t.Logf("%d requests in %s from %d clients (%.0f/s); status codes %v", total, duration, clients, float64(total)/duration.Seconds(), stats.codes)
	for _, p := range stats.problems {
		t.Error(p)
	}
	if stats.codes[201] == 0 && stats.codes[200] == 0 {
		t.Fatal("no request succeeded")
	}

	// Exactly the kept objects remain: nothing lost, nothing duplicated.
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list.Items {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	sort.Strings(stats.kept)
	if !slices.Equal(names, stats.kept) {
		t.Errorf("%d executions remain, want the %d kept ones", len(names), len(stats.kept))
	}
}
