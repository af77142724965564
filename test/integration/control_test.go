package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// POST executions/NAME/retry with an empty body retries a Failed Execution
// and is refused with 409 for any other.
func TestRetrySubresource(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	client := ts.Client.ExecutionV1alpha1().Executions("default")
	if _, err := client.Create(ctx, example(t, "exec-whole"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	retry := func() (int, string) {
		res := restClient(t, ts).Post().Namespace("default").Resource("executions").Name("exec-whole").SubResource("retry").
			Body([]byte("{}")).SetHeader("Content-Type", "application/json").Do(ctx)
		var code int
		res.StatusCode(&code)
		body, _ := res.Raw()
		return code, string(body)
	}
	if code, body := retry(); code != http.StatusConflict || !strings.Contains(body, "only a Failed execution can be retried, and this one is Pending") {
		t.Errorf("retry of a Pending execution: %d %s, want 409", code, body)
	}

	e, err := client.Get(ctx, "exec-whole", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseFailed, Message: "job exec-whole.a.1 failed: BackoffLimitExceeded",
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0", Failed: "1"}}}
	if _, err := client.UpdateStatus(ctx, e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A dry run answers as a retry would and changes nothing.
	res := restClient(t, ts).Post().Namespace("default").Resource("executions").Name("exec-whole").SubResource("retry").
		Param("dryRun", "All").Body([]byte("{}")).SetHeader("Content-Type", "application/json").Do(ctx)
	if err := res.Error(); err != nil {
		t.Fatalf("dry-run retry: %v", err)
	}
	if still, _ := client.Get(ctx, "exec-whole", metav1.GetOptions{}); still.Status.Phase != v1alpha1.PhaseFailed || still.Status.Attempts != 0 {
		t.Errorf("after a dry-run retry: phase %s, attempts %d; want it unchanged", still.Status.Phase, still.Status.Attempts)
	}
	if code, body := retry(); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("retry of a Failed execution: %d %s", code, body)
	}
	got, err := client.Get(ctx, "exec-whole", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := got.Status.Tasks[0]
	if got.Status.Phase != v1alpha1.PhaseRunning || got.Status.Attempts != 2 || a.Retrying != "1" || a.Failed != "" || a.Created != "0" {
		t.Errorf("after the retry: phase %s, attempts %d, task a %+v", got.Status.Phase, got.Status.Attempts, a)
	}
	if v := got.Status.Vertices["exec-whole.a.1"]; v.Phase != v1alpha1.PhasePending || v.Message != "failed; runs again (retry)" {
		t.Errorf("vertex of the retried job: %+v", v)
	}
	if code, _ := retry(); code != http.StatusConflict {
		t.Errorf("a second retry while Running: %d, want 409", code)
	}
}

// spec.suspend is the one field of the spec that may change.
func TestSuspendIsTheOnlyMutableSpecField(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	client := ts.Client.ExecutionV1alpha1().Executions("default")
	created, err := client.Create(ctx, example(t, "exec-whole"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.Spec.FailurePolicy != v1alpha1.FailFast {
		t.Errorf("failurePolicy defaulted to %q, want FailFast", created.Spec.FailurePolicy)
	}
	created.Spec.Suspend = ptr.To(true)
	suspended, err := client.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("suspending: %v", err)
	}
	if suspended.Generation != created.Generation+1 || !*suspended.Spec.Suspend {
		t.Errorf("after suspending: generation %d (was %d), suspend %v", suspended.Generation, created.Generation, *suspended.Spec.Suspend)
	}
	suspended.Spec.ActiveDeadlineSeconds = ptr.To[int64](10)
	if _, err := client.Update(ctx, suspended, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "except spec.suspend") {
		t.Errorf("changing the deadline: %v, want 422 naming spec.suspend as the only mutable field", err)
	}
}
