package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/scheme"
)

// The spam filter budgets events per Execution and reason: per-Job events
// share one budget, a transition has its own.
func TestEventSpamKey(t *testing.T) {
	event := func(reason, message string) *corev1.Event {
		return &corev1.Event{
			Source:         corev1.EventSource{Component: EventSourceComponent},
			InvolvedObject: corev1.ObjectReference{Kind: executionKind, Namespace: "ns", Name: "e", UID: "u"},
			Type:           corev1.EventTypeNormal, Reason: reason, Message: message,
		}
	}
	created1, created2 := event(EventJobCreated, "Created job e.a.1"), event(EventJobCreated, "Created job e.a.2")
	if eventSpamKey(created1) != eventSpamKey(created2) {
		t.Errorf("JobCreated events of two jobs have different spam keys: per-Job events would not be bounded")
	}
	if eventSpamKey(created1) == eventSpamKey(event(EventExecutionSucceeded, "Execution succeeded")) {
		t.Errorf("JobCreated and ExecutionSucceeded share a spam key: a large Execution's per-Job events would crowd out its end")
	}
	other := event(EventJobCreated, "Created job e.a.1")
	other.InvolvedObject.Name = "f"
	if eventSpamKey(created1) == eventSpamKey(other) {
		t.Errorf("events of two Executions share a spam key")
	}
}

// The controller's own budget of per-Job events is the spam filter's: 25,
// then one in five minutes.
func TestJobEventBudget(t *testing.T) {
	budget := newJobEventBudget()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range eventSpamBurst {
		if !budget.AllowN(start, 1) {
			t.Fatalf("event %d of the first %d refused", i+1, eventSpamBurst)
		}
	}
	if budget.AllowN(start.Add(time.Minute), 1) {
		t.Errorf("event %d allowed within five minutes", eventSpamBurst+1)
	}
	if !budget.AllowN(start.Add(5*time.Minute), 1) {
		t.Errorf("no event allowed five minutes after the burst")
	}
	if budget.AllowN(start.Add(5*time.Minute), 1) {
		t.Errorf("two events allowed five minutes after the burst")
	}
}

// The broadcaster's spam filter lets through what the budget allows and no
// more: every JobCreated the controller records reaches the server.
func TestEventBroadcasterBudget(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &countingSink{}
	b := NewEventBroadcaster(ctx)
	b.StartRecordingToSink(sink)
	defer b.Shutdown()
	recorder := b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: EventSourceComponent})
	ref := &corev1.ObjectReference{Kind: executionKind, Namespace: "ns", Name: "e", UID: "u"}
	for i := range eventSpamBurst + 10 {
		recorder.Eventf(ref, corev1.EventTypeNormal, EventJobCreated, "Created job e.a.%d", i)
	}
	recorder.Event(ref, corev1.EventTypeNormal, EventExecutionSucceeded, MessageSucceeded)
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return sink.count(EventExecutionSucceeded) == 1, nil
	})
	if err != nil {
		t.Fatalf("ExecutionSucceeded not sent: %v", err)
	}
	if n := sink.count(EventJobCreated); n != eventSpamBurst {
		t.Errorf("%d JobCreated events sent, want the budget's %d", n, eventSpamBurst)
	}
}

// countingSink counts the events sent to it, by reason.
type countingSink struct {
	mu       sync.Mutex
	byReason map[string]int
}

func (s *countingSink) add(e *corev1.Event) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byReason == nil {
		s.byReason = map[string]int{}
	}
	s.byReason[e.Reason]++
	return e, nil
}

func (s *countingSink) count(reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byReason[reason]
}

func (s *countingSink) Create(e *corev1.Event) (*corev1.Event, error) { return s.add(e) }
func (s *countingSink) Update(e *corev1.Event) (*corev1.Event, error) { return s.add(e) }
func (s *countingSink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) {
	return s.add(e)
}
