package controller

import (
	corev1 "k8s.io/api/core/v1"

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
