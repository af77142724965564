package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
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
