package controller

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

func TestActiveLimiterBoundsAndSharesFairly(t *testing.T) {
	var mu sync.Mutex
	var woken []string
	l := newActiveLimiter(10, func(k cache.ObjectName) {
		mu.Lock()
		woken = append(woken, k.Name)
		mu.Unlock()
	})
	big, small := cache.NewObjectName("ns", "big"), cache.NewObjectName("ns", "small")

	if got := l.acquire(big, 25); got != 10 {
		t.Fatalf("alone: got %d of 25, want the whole bound of 10", got)
	}
	if !l.waits(big) {
		t.Errorf("big got less than it wanted but does not wait")
	}
	l.set(big, 10)
	if got := l.acquire(small, 3); got != 0 || !l.waits(small) {
		t.Fatalf("small while the bound is used up: got %d (waits %v), want 0 and to wait", got, l.waits(small))
	}

	// Two of big's Jobs finish: the waiting Executions are woken, and big
	// may not take the freed slots above its equal share while small waits.
	l.set(big, 8)
	mu.Lock()
	if !slices.Contains(woken, "small") {
		t.Errorf("small was not woken when Jobs finished (woken: %v)", woken)
	}
	mu.Unlock()
	if got := l.acquire(big, 17); got != 0 {
		t.Errorf("big over its share of 5 while small waits: got %d, want 0", got)
	}
	if got := l.acquire(small, 3); got != 2 {
		t.Errorf("small: got %d, want the 2 free slots", got)
	}
	l.set(small, 2)
	l.set(big, 7)
	if got := l.acquire(small, 1); got != 1 {
		t.Errorf("small, below its share: got %d, want 1", got)
	}
	if l.waits(small) {
		t.Errorf("small got all it wanted but still waits")
	}

	// small finishes and is forgotten: big may use the whole bound again.
	l.forget(small)
	if got := l.acquire(big, 17); got != 3 {
		t.Errorf("big alone again with 7 active: got %d, want 3", got)
	}
	if l.total != 10 {
		t.Errorf("total = %d, want 10", l.total)
	}

	unbounded := newActiveLimiter(0, nil)
	if got := unbounded.acquire(big, 100000); got != 100000 {
		t.Errorf("no bound: got %d of 100000", got)
	}
}

// countCreated counts the creations of jobs of execution name.
func countCreated(names []string, execution string) int {
	n := 0
	for _, name := range names {
		if strings.HasPrefix(name, execution+".") {
			n++
		}
	}
	return n
}

func TestActiveJobsPerExecutionAreBounded(t *testing.T) {
	e := newExecution("wide", task("a", 20))
	f := newFixture(t, nil, e)
	f.ctrl.maxActivePerExecution = 5
	f.run()

	created := f.waitCreated(5)
	time.Sleep(50 * time.Millisecond)
	if n := len(f.created()); n != 5 {
		t.Fatalf("%d jobs created with none finished and a bound of 5", n)
	}
	f.succeed(created[0], created[1])
	f.waitCreated(7)
	for i := 0; i < 20; i++ {
		job := fmt.Sprintf("wide.a.%d", i)
		f.waitFor("job "+job, func() bool { return slices.Contains(f.created(), job) })
		f.succeed(job)
	}
	f.waitStatus("wide", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
}

func TestSmallExecutionGetsItsShareDuringAHugeOne(t *testing.T) {
	huge := newExecution("huge", task("a", 1000))
	f := newFixture(t, nil, huge)
	f.ctrl.limiter = newActiveLimiter(8, func(k cache.ObjectName) { f.ctrl.queue.Add(k) })
	f.run()
	f.waitCreated(8)

	small := newExecution("small", task("a", 3))
	if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Create(t.Context(), small, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := countCreated(f.created(), "small"); n != 0 {
		t.Fatalf("small got %d jobs while the bound of 8 was used up", n)
	}
	// As the huge one's Jobs finish, the freed slots go to the small one
	// until it has its 3, not back to the huge one.
	for i := 0; i < 3; i++ {
		f.succeed(fmt.Sprintf("huge.a.%d", i))
	}
	f.waitFor("small's 3 jobs", func() bool { return countCreated(f.created(), "small") == 3 })
	if n := countCreated(f.created(), "huge"); n != 8 {
		t.Errorf("huge has %d jobs created after 3 finished while small waited, want still 8", n)
	}
}
