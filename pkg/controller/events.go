package controller

import (
	"context"
	"strings"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// Reasons of the events the controller records on Executions.
const (
	EventJobCreated         = "JobCreated"
	EventJobAdopted         = "JobAdopted"
	EventJobCreateFailed    = "JobCreateFailed"
	EventJobFailed          = "JobFailed"
	EventExecutionSucceeded = "ExecutionSucceeded"
	EventExecutionFailed    = "ExecutionFailed"
)

// EventSourceComponent is the component events are reported by.
const EventSourceComponent = "execution-controller"

// executionRef is the subject of the Execution's events. The Execution is
// not in client-go's scheme, so the reference is spelled out rather than
// derived from the object.
func executionRef(e *v1alpha1.Execution) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion:      v1alpha1.SchemeGroupVersion.String(),
		Kind:            executionKind,
		Namespace:       e.Namespace,
		Name:            e.Name,
		UID:             e.UID,
		ResourceVersion: e.ResourceVersion,
	}
}

// The spam filter's budget per Execution, type and reason: client-go's
// defaults, 25 events and then one in five minutes, spelled out because
// newJobEventBudget applies the same budget before an event is made.
const (
	eventSpamBurst = 25
	eventSpamQPS   = 1. / 300.
)

// NewEventBroadcaster is the broadcaster of the controller's events. The
// client's spam filter allows 25 events per object and type, then one in
// five minutes; an Execution of thousands of Jobs spends that budget on
// JobCreated in its first second, and its ExecutionSucceeded would be
// dropped. Keyed by reason as well, each kind of event keeps its own
// budget: the per-Job events of a large Execution stop after the first 25,
// and its transitions are still recorded.
func NewEventBroadcaster(ctx context.Context) record.EventBroadcaster {
	return record.NewBroadcaster(record.WithContext(ctx),
		record.WithCorrelatorOptions(record.CorrelatorOptions{
			SpamKeyFunc: eventSpamKey,
			BurstSize:   eventSpamBurst,
			QPS:         eventSpamQPS,
		}))
}

// newJobEventBudget is an Execution's budget of per-Job events
// (JobCreated): the spam filter's, checked before the event is made. The
// filter would drop all but the first 25 of a large Execution's JobCreated
// anyway, and each event it drops still costs its making, the broadcaster
// and the correlator: 5 % of the controller's CPU in a 5,000-job run.
func newJobEventBudget() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(eventSpamQPS), eventSpamBurst)
}

// eventSpamKey is client-go's spam key with the event's reason.
func eventSpamKey(ev *corev1.Event) string {
	ref := ev.InvolvedObject
	return strings.Join([]string{ev.Source.Component, ev.Source.Host, ref.Kind, ref.Namespace, ref.Name,
		string(ref.UID), ref.APIVersion, ev.Type, ev.Reason}, "\x00")
}
