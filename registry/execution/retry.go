package execution

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/indexset"
)

// RetryREST serves POST executions/NAME/retry: a Failed Execution goes back
// to Running with its failed jobs marked for retrying. The controller
// deletes their failed Jobs, waits until they are gone, and creates them
// again under the next attempt; succeeded jobs are kept.
type RetryREST struct {
	// store writes through the status strategy: a retry changes status only.
	store *genericregistry.Store
}

var _ rest.NamedCreater = &RetryREST{}

// New returns the request body.
func (r *RetryREST) New() runtime.Object { return &execution.ExecutionRetry{} }

// Destroy cleans up resources on shutdown; the main store owns them.
func (r *RetryREST) Destroy() {}

// Create retries the named Execution and returns it as updated.
func (r *RetryREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	req, ok := obj.(*execution.ExecutionRetry)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not an ExecutionRetry: %T", obj))
	}
	if req.Name != "" && req.Name != name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the retry names execution %q, the path %q", req.Name, name))
	}
	if createValidation != nil {
		// Admission: whoever retries must be allowed to create the Jobs.
		if err := createValidation(ctx, obj); err != nil {
			return nil, err
		}
	}
	var dryRun []string
	if options != nil {
		dryRun = options.DryRun
	}
	updated, _, err := r.store.Update(ctx, name, rest.DefaultUpdatedObjectInfo(nil, retryFailed),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{DryRun: dryRun})
	return updated, err
}

// retryFailed turns the stored status of a Failed Execution into that of a
// retried one: the failed jobs of each task move from created and failed
// to retrying, their messages go, the Execution is Running its next
// attempt. Anything but a Failed Execution is refused with a conflict.
func retryFailed(_ context.Context, _, stored runtime.Object) (runtime.Object, error) {
	e, ok := stored.(*execution.Execution)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("stored object is a %T, not an Execution", stored))
	}
	e = e.DeepCopy()
	if e.Status.Phase != execution.PhaseFailed {
		phase := e.Status.Phase
		if phase == "" {
			phase = execution.PhasePending
		}
		return nil, apierrors.NewConflict(execution.Resource("executions"), e.Name,
			fmt.Errorf("only a Failed execution can be retried, and this one is %s", phase))
	}
	retried := 0
	for i := range e.Status.Tasks {
		ts := &e.Status.Tasks[i]
		failed, err := indexset.Parse(ts.Failed)
		if err != nil || failed.Count() == 0 {
			continue
		}
		created, _ := indexset.Parse(ts.Created)
		retrying, _ := indexset.Parse(ts.Retrying)
		failed.Each(func(j int) bool {
			created.Remove(j)
			retrying.Add(j)
			return true
		})
		retried += failed.Count()
		ts.Created, ts.Failed, ts.Retrying = created.String(), "", retrying.String()
		ts.Messages = nil
	}
	e.Status.Attempts = max(e.Status.Attempts, 1) + 1
	e.Status.Phase = execution.PhaseRunning
	e.Status.Message = fmt.Sprintf("retrying %d failed jobs (attempt %d)", retried, e.Status.Attempts)
	// The new attempt's clock (activeDeadlineSeconds) starts with its first Job.
	e.Status.StartedAt, e.Status.FinishedAt = nil, nil
	meta.RemoveStatusCondition(&e.Status.Conditions, execution.ConditionFailed)
	return e, nil
}
