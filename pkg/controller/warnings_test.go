package controller

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

func TestCollectWarningOnlyForJobCreations(t *testing.T) {
	if CollectWarning(context.Background(), "w") {
		t.Errorf("a request without a collector took a warning")
	}
	ctx, collected := WithWarnings(context.Background())
	if !CollectWarning(ctx, "one") || !CollectWarning(ctx, "two") {
		t.Fatal("the collector in the context took no warning")
	}
	if got := collected(); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("collected %q, want [one two]", got)
	}
}

func TestCreationWarningsReachEventsAndStatus(t *testing.T) {
	recorder := record.NewFakeRecorder(10)
	c := &Controller{recorder: recorder}
	e := newExecution("warned", task("a", 2))
	s := newExecutionState(e.UID)
	psa := `would violate PodSecurity "restricted:latest": runAsNonRoot != true`
	dots := ignoredWarning + "; a DNS label is recommended: [must not contain dots]"

	c.recordWarnings(e, s, "warned.a.0", []string{dots})
	if st := s.status(e, time.Unix(100, 0)); meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionJobWarning) != nil {
		t.Errorf("the warning every dotted Job name gets set condition JobWarning")
	}
	c.recordWarnings(e, s, "warned.a.0", []string{dots, psa})
	c.recordWarnings(e, s, "warned.a.1", []string{dots, psa})

	st := s.status(e, time.Unix(100, 0))
	cond := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionJobWarning)
	want := "creating job warned.a.0, kube-apiserver warned: " + psa
	if cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != reasonCreateWarning || cond.Message != want {
		t.Fatalf("JobWarning = %+v, want True %s %q", cond, reasonCreateWarning, want)
	}
	var events []string
	for len(recorder.Events) > 0 {
		events = append(events, <-recorder.Events)
	}
	if len(events) != 1 || !strings.HasPrefix(events[0], "Warning CreateWarning "+want) {
		t.Errorf("events %q, want one Warning CreateWarning for the one distinct warning", events)
	}
}
