package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

const (
	readsExecutions   = 50
	readsJobsOfA      = 4990
	readsJobsOfB      = 10
	readsConcurrent   = 10
	readsMaxRSSGrowth = 100 << 20
)

// readsExecution is one of the large Executions of TestReadsOfLargeExecutions:
// task a of 4,990 commands and task b of 10 waiting for all of a, about
// 64 KB of spec. Its first job fails (kwok fails `exit 1`), so with
// parallelism 1 the controller creates one Job and the Execution fails: the
// test reads 5,000-vertex objects without the cluster running them.
func readsExecution(name string) *v1alpha1.Execution {
	commands := func(task string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("echo %s%04d", task, i)
		}
		return out
	}
	a := commands("a", readsJobsOfA)
	a[0] = "exit 1"
	return &v1alpha1.Execution{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ExecutionSpec{
			Parallelism: ptr.To[int64](1),
			Tasks: []v1alpha1.Task{
				{Name: "a", Type: v1alpha1.TaskTypeJob, Image: "busybox", Commands: a},
				{Name: "b", Type: v1alpha1.TaskTypeJob, Image: "busybox", Commands: commands("b", readsJobsOfB),
					Dependents: []v1alpha1.Dependent{{Target: "a", Type: v1alpha1.DependTypeWhole}}},
			},
		},
	}
}

// TestReadsOfLargeExecutions: 50 Executions of 5,000 jobs in one namespace.
// `kubectl get exec` (a table) costs about what listing 50 ConfigMaps of the
// same size costs, since tables are served from the compact status; and 10
// concurrent full JSON lists, which render status.vertices within the
// per-list budget, raise the server's resident memory by at most 100 MiB.
func TestReadsOfLargeExecutions(t *testing.T) {
	f := framework.New(t)
	kube, exe := ctlBenchClients(t, f.Stack)
	ns := f.CreateNamespace("e2e-reads")
	ctx := context.Background()

	specSize := 0
	for i := range readsExecutions {
		e := readsExecution(fmt.Sprintf("big-%02d", i))
		if _, err := exe.ExecutionV1alpha1().Executions(ns).Create(ctx, e, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", e.Name, err)
		}
		spec, _ := json.Marshal(e.Spec)
		specSize = len(spec)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: e.Name}, Data: map[string]string{"spec": string(spec)}}
		if _, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating configmap %s: %v", cm.Name, err)
		}
	}
	t.Logf("%d Executions of %d jobs (%d KB of spec each) and as many ConfigMaps of that size", readsExecutions, readsJobsOfA+readsJobsOfB, specSize/1024)

	// Tables: interleaved rounds, compared by their medians.
	var execTimes, cmTimes []time.Duration
	for range 5 {
		r := f.Kubectl.MustRun("get", "executions", "-n", ns)
		if n := strings.Count(r.Stdout, "\nbig-"); n != readsExecutions {
			t.Fatalf("kubectl get executions printed %d rows, want %d:\n%s", n, readsExecutions, r.Stdout)
		}
		execTimes = append(execTimes, r.Duration)
		cmTimes = append(cmTimes, f.Kubectl.MustRun("get", "configmaps", "-n", ns).Duration)
	}
	execMedian, cmMedian := median(execTimes), median(cmTimes)
	ratio := float64(execMedian) / float64(cmMedian)
	t.Logf("kubectl get: executions %v, configmaps %v (medians of 5): ratio %.2f", execMedian, cmMedian, ratio)
	if ratio > 2 {
		t.Errorf("kubectl get executions took %.2f× listing as many ConfigMaps (%v vs %v), want at most 2×", ratio, execMedian, cmMedian)
	}

	// Full JSON lists, concurrently, while the server's RSS is sampled.
	pid := executionAPIServerPID(t, f.Stack)
	before := residentBytes(t, pid)
	peak := before
	done := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak = max(peak, residentBytes(t, pid))
			}
		}
	})
	lists := make([]*v1alpha1.ExecutionList, readsConcurrent)
	errs := make([]error, readsConcurrent)
	var wg sync.WaitGroup
	for i := range readsConcurrent {
		wg.Go(func() { lists[i], errs[i] = exe.ExecutionV1alpha1().Executions(ns).List(ctx, metav1.ListOptions{}) })
	}
	wg.Wait()
	close(done)
	sampler.Wait()
	growth := peak - before
	t.Logf("execution-apiserver RSS %d MiB before, peak %d MiB during %d concurrent lists: +%d MiB", before>>20, peak>>20, readsConcurrent, growth>>20)
	if growth > readsMaxRSSGrowth {
		t.Errorf("%d concurrent lists raised the server's RSS by %d MiB, want at most %d MiB", readsConcurrent, growth>>20, readsMaxRSSGrowth>>20)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("list %d: %v", i, err)
		}
	}

	// Each list rendered items up to the budget; the others say where to
	// read their vertices.
	rendered, omitted := 0, 0
	for _, item := range lists[0].Items {
		cond := meta.FindStatusCondition(item.Status.Conditions, v1alpha1.ConditionVerticesRendered)
		switch {
		case len(item.Status.Vertices) == readsJobsOfA+readsJobsOfB && cond == nil:
			rendered++
		case item.Status.Vertices == nil && cond != nil && cond.Reason == "OverListBudget" && strings.Contains(cond.Message, "GET the execution by name"):
			omitted++
		default:
			t.Errorf("list item %s: %d vertices, condition %+v", item.Name, len(item.Status.Vertices), cond)
		}
	}
	t.Logf("a full list rendered %d items and omitted the vertices of %d", rendered, omitted)
	if len(lists[0].Items) != readsExecutions || rendered == 0 || omitted == 0 {
		t.Errorf("list of %d items: %d rendered, %d over the budget; want %d items, some of each", len(lists[0].Items), rendered, omitted, readsExecutions)
	}

	// A GET still renders the whole Execution, and the server answers.
	one, err := exe.ExecutionV1alpha1().Executions(ns).Get(ctx, lists[0].Items[readsExecutions-1].Name, metav1.GetOptions{})
	if err != nil || len(one.Status.Vertices) != readsJobsOfA+readsJobsOfB {
		t.Errorf("GET after the lists: %v, %d vertices", err, len(one.Status.Vertices))
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// executionAPIServerPID is the execution-apiserver's pid, from the pid file
// hack/local-up.sh keeps.
func executionAPIServerPID(t *testing.T, s *framework.Stack) int {
	t.Helper()
	pid, err := scaleComponentPID(s, "execution-apiserver")
	if err != nil {
		t.Fatalf("execution-apiserver's pid: %v", err)
	}
	return pid
}

// residentBytes is a process's resident set size, what the server reports
// as process_resident_memory_bytes, read from /proc so it can be sampled
// often without loading the server.
func residentBytes(t *testing.T, pid int) int64 {
	rss, err := scaleProcRSS(pid)
	if err != nil {
		t.Errorf("reading the RSS of %d: %v", pid, err)
	}
	return int64(rss)
}
