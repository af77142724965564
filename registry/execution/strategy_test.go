package execution

import (
	"context"
	"reflect"
	"strings"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/validation"
)

func testContext() context.Context {
	return genericapirequest.WithNamespace(context.Background(), "default")
}

func TestStrategyCreateDropsClientStatus(t *testing.T) {
	s := newStrategy(testScheme, validation.DefaultOptions())
	e := loadExample(t, "exec-whole")
	succeededEverywhere(e)
	e.Status.Vertices = map[string]execution.Vertex{"x": {ID: "x"}}
	s.PrepareForCreate(testContext(), e)
	want := execution.ExecutionStatus{Phase: execution.PhasePending}
	if !reflect.DeepEqual(e.Status, want) {
		t.Fatalf("status after create = %+v, want %+v", e.Status, want)
	}
	if e.Generation != 1 {
		t.Errorf("generation = %d, want 1", e.Generation)
	}
	if errs := s.Validate(testContext(), e); len(errs) != 0 {
		t.Errorf("seed execution invalid: %v", errs)
	}
}

func TestStrategyUpdateKeepsStoredStatusAndRefusesSpecChanges(t *testing.T) {
	s := newStrategy(testScheme, validation.DefaultOptions())
	old := loadExample(t, "exec-whole")
	old.ResourceVersion = "7"
	old.Status = execution.ExecutionStatus{Phase: execution.PhaseRunning, Tasks: []execution.TaskStatus{{Name: "a", Created: "0-1"}}}

	upd := old.DeepCopy()
	upd.Labels = map[string]string{"team": "genomics"}
	upd.Status = execution.ExecutionStatus{Phase: execution.PhaseSucceeded}
	s.PrepareForUpdate(testContext(), upd, old)
	if !reflect.DeepEqual(upd.Status, old.Status) {
		t.Errorf("main resource update changed status to %+v", upd.Status)
	}
	if errs := s.ValidateUpdate(testContext(), upd, old); len(errs) != 0 {
		t.Errorf("label update refused: %v", errs)
	}

	upd.Spec.Tasks[0].Image = "busybox"
	errs := s.ValidateUpdate(testContext(), upd, old)
	if len(errs) != 1 || errs[0].Field != "spec" {
		t.Errorf("spec change: errors %v, want one on spec", errs)
	}
}

func TestStatusStrategyKeepsSpecAndDropsRenderedFields(t *testing.T) {
	s := statusStrategy{newStrategy(testScheme, validation.DefaultOptions())}
	old := loadExample(t, "exec-whole")
	old.ResourceVersion = "7"
	old.Labels = map[string]string{"team": "genomics"}

	upd := old.DeepCopy()
	upd.Spec.Tasks[0].Image = "busybox"
	upd.Labels = nil
	succeededEverywhere(upd)
	render(upd, DefaultRenderLimits())
	upd.Status.Conditions = append(upd.Status.Conditions,
		metav1.Condition{Type: execution.ConditionVerticesRendered, Status: metav1.ConditionFalse, Reason: "TooLarge"},
		metav1.Condition{Type: execution.ConditionComplete, Status: metav1.ConditionTrue, Reason: "Succeeded", LastTransitionTime: metav1.Now()})
	if len(upd.Status.Vertices) == 0 {
		t.Fatal("test setup: nothing rendered")
	}

	s.PrepareForUpdate(testContext(), upd, old)
	if !reflect.DeepEqual(upd.Spec, old.Spec) || !reflect.DeepEqual(upd.Labels, old.Labels) {
		t.Error("status update changed spec or labels")
	}
	if upd.Status.Vertices != nil {
		t.Error("status update would persist rendered vertices")
	}
	if len(upd.Status.Conditions) != 1 || upd.Status.Conditions[0].Type != execution.ConditionComplete {
		t.Errorf("conditions after status update = %+v, want only Complete", upd.Status.Conditions)
	}
	if errs := s.ValidateUpdate(testContext(), upd, old); len(errs) != 0 {
		t.Errorf("valid status refused: %v", errs)
	}
}

func TestSelectableFields(t *testing.T) {
	e := loadExample(t, "exec-whole")
	e.Status.Phase = execution.PhaseRunning
	_, fields, err := GetAttrs(e)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"metadata.name": "exec-whole", "metadata.namespace": "default", "status.phase": "Running"} {
		if fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, fields[k], v)
		}
	}
}

func TestCreatorAnnotationIsSetByTheServerOnly(t *testing.T) {
	s := newStrategy(testScheme, validation.DefaultOptions())
	ctx := genericapirequest.WithUser(testContext(), &user.DefaultInfo{Name: "alice"})
	e := loadExample(t, "exec-whole")
	e.Annotations = map[string]string{execution.CreatedByAnnotation: "mallory", "note": "kept"}
	s.PrepareForCreate(ctx, e)
	if got := e.Annotations[execution.CreatedByAnnotation]; got != "alice" || e.Annotations["note"] != "kept" {
		t.Fatalf("annotations after create by alice: %v", e.Annotations)
	}

	for _, forged := range []map[string]string{{execution.CreatedByAnnotation: "mallory"}, nil} {
		upd := e.DeepCopy()
		upd.Annotations = forged
		s.PrepareForUpdate(ctx, upd, e)
		if got := upd.Annotations[execution.CreatedByAnnotation]; got != "alice" {
			t.Errorf("update with annotations %v: creator %q, want alice", forged, got)
		}
	}
}

func TestRetryFailedMovesFailedJobsToRetrying(t *testing.T) {
	e := loadExample(t, "exec-whole")
	e.Status = execution.ExecutionStatus{
		Phase: execution.PhaseFailed, Message: "job exec-whole.a.1 failed: BackoffLimitExceeded", StartedAt: &metav1.Time{}, FinishedAt: &metav1.Time{},
		Tasks: []execution.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0", Failed: "1",
			Messages: []execution.JobMessage{{Index: 1, Message: "BackoffLimitExceeded"}}}},
		Conditions: []metav1.Condition{{Type: execution.ConditionFailed, Status: metav1.ConditionTrue, Reason: "JobFailed"}},
	}
	before := e.DeepCopy()
	out, err := retryFailed(testContext(), e, e)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*execution.Execution).Status
	want := execution.ExecutionStatus{
		Phase: execution.PhaseRunning, Message: "retrying 1 failed jobs (attempt 2)", Attempts: 2,
		Tasks:      []execution.TaskStatus{{Name: "a", Created: "0", Succeeded: "0", Retrying: "1"}},
		Conditions: []metav1.Condition{},
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("retried status\n got %+v\nwant %+v", got, want)
	}
	if !apiequality.Semantic.DeepEqual(e, before) {
		t.Error("the stored object was changed in place")
	}

	// A second retry after another failure counts on.
	again := out.(*execution.Execution)
	again.Status.Phase, again.Status.Tasks[0].Failed, again.Status.Tasks[0].Created = execution.PhaseFailed, "1", "0-1"
	again.Status.Tasks[0].Retrying = ""
	out, err = retryFailed(testContext(), again, again)
	if err != nil || out.(*execution.Execution).Status.Attempts != 3 {
		t.Errorf("second retry: %v, attempts %d, want 3", err, out.(*execution.Execution).Status.Attempts)
	}

	for _, phase := range []execution.ExecutionPhase{"", execution.PhasePending, execution.PhaseRunning, execution.PhaseSucceeded} {
		e := loadExample(t, "exec-whole")
		e.Status.Phase = phase
		if _, err := retryFailed(testContext(), e, e); !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "only a Failed execution can be retried") {
			t.Errorf("retrying a %q execution: %v, want a conflict", phase, err)
		}
	}
}

func TestCreatorIdentityIsRecordedByTheServerOnly(t *testing.T) {
	s := newStrategy(testScheme, validation.DefaultOptions())
	alice := &user.DefaultInfo{Name: "alice", UID: "u-1", Groups: []string{"team-a", user.AllAuthenticated},
		Extra: map[string][]string{"scopes.example.com": {"batch"}}}
	ctx := genericapirequest.WithUser(testContext(), alice)
	e := loadExample(t, "exec-whole")
	e.Spec.Creator = &execution.UserInfo{Username: "mallory", Groups: []string{"system:masters"}}
	s.PrepareForCreate(ctx, e)
	want := &execution.UserInfo{Username: "alice", UID: "u-1", Groups: []string{"team-a", user.AllAuthenticated},
		Extra: map[string]execution.ExtraValue{"scopes.example.com": {"batch"}}}
	if !reflect.DeepEqual(e.Spec.Creator, want) {
		t.Fatalf("spec.creator after create by alice = %+v, want %+v", e.Spec.Creator, want)
	}
	if errs := s.Validate(ctx, e); len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	e.ResourceVersion = "7"

	for _, forged := range []*execution.UserInfo{{Username: "mallory", Groups: []string{"system:masters"}}, nil} {
		upd := e.DeepCopy()
		upd.Spec.Creator = forged
		s.PrepareForUpdate(ctx, upd, e)
		if !reflect.DeepEqual(upd.Spec.Creator, want) {
			t.Errorf("update with spec.creator %+v: creator %+v, want %+v", forged, upd.Spec.Creator, want)
		}
		if upd.Generation != e.Generation {
			t.Errorf("update with spec.creator %+v: generation %d, want %d (nothing changed)", forged, upd.Generation, e.Generation)
		}
		if errs := s.ValidateUpdate(ctx, upd, e); len(errs) > 0 {
			t.Errorf("update with spec.creator %+v refused: %v", forged, errs)
		}
	}
}
