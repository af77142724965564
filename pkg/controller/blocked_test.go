package controller

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// reviewer answers SubjectAccessReviews on a fake clientset and records them.
type reviewer struct {
	allowed atomic.Bool
	mu      sync.Mutex
	asked   []authorizationv1.SubjectAccessReviewSpec
}

func (r *reviewer) install(kube *kubefake.Clientset) {
	kube.PrependReactor("create", "subjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		review := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		r.mu.Lock()
		r.asked = append(r.asked, review.Spec)
		r.mu.Unlock()
		review.Status.Allowed = r.allowed.Load()
		if !review.Status.Allowed {
			review.Status.Reason = "no RBAC policy matched"
		}
		return true, review, nil
	})
}

func (r *reviewer) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.asked)
}

func alice() *v1alpha1.UserInfo {
	return &v1alpha1.UserInfo{Username: "alice", UID: "u-1", Groups: []string{"team-a", "system:authenticated"},
		Extra: map[string]v1alpha1.ExtraValue{"scopes.example.com": {"batch"}}}
}

func TestPermissionCheckerAsksAtMostOncePerInterval(t *testing.T) {
	kube := kubefake.NewSimpleClientset()
	var r reviewer
	r.install(kube)
	r.allowed.Store(true)
	now := time.Unix(1000, 0)
	p := newPermissionChecker(kube.AuthorizationV1().SubjectAccessReviews(), func() time.Time { return now }, 30*time.Second)
	e := newExecution("perm", task("a", 1))
	e.Spec.Creator = alice()
	key := cache.ObjectName{Namespace: e.Namespace, Name: e.Name}
	ctx := context.Background()

	check := func(wantAllowed bool, wantReviews int) string {
		t.Helper()
		ok, why, recheck, err := p.allowed(ctx, key, e)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantAllowed || r.count() != wantReviews {
			t.Fatalf("at %v: allowed=%v after %d reviews, want %v after %d", now, ok, r.count(), wantAllowed, wantReviews)
		}
		if recheck <= 0 || recheck > 30*time.Second {
			t.Fatalf("recheck in %v, want within the interval", recheck)
		}
		return why
	}
	check(true, 1)
	r.allowed.Store(false) // revoked: not seen before the answer expires
	for _, after := range []time.Duration{time.Second, 29 * time.Second} {
		now = time.Unix(1000, 0).Add(after)
		check(true, 1)
	}
	now = time.Unix(1000, 0).Add(30 * time.Second)
	why := check(false, 2)
	for _, want := range []string{`user "alice"`, "namespace default", "no RBAC policy matched"} {
		if !strings.Contains(why, want) {
			t.Errorf("reason %q does not say %q", why, want)
		}
	}

	got := r.asked[0]
	if got.User != "alice" || got.UID != "u-1" || strings.Join(got.Groups, ",") != "team-a,system:authenticated" ||
		strings.Join(got.Extra["scopes.example.com"], ",") != "batch" {
		t.Errorf("review asked for %+v, want alice's recorded identity", got)
	}
	if ra := got.ResourceAttributes; ra == nil || *ra != (authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Group: "batch", Version: "v1", Resource: "jobs"}) {
		t.Errorf("review asked about %+v, want create batch/v1 jobs in default", got.ResourceAttributes)
	}

	// Another Execution of the same name is asked about afresh.
	e2 := e.DeepCopy()
	e2.UID = "other"
	r.allowed.Store(true)
	if ok, _, _, _ := p.allowed(ctx, key, e2); !ok || r.count() != 3 {
		t.Errorf("new execution of the same name: allowed=%v after %d reviews, want true after 3", ok, r.count())
	}
	// Executions without a recorded creator are not checked.
	e3 := newExecution("old", task("a", 1))
	if ok, _, _, err := p.allowed(ctx, cache.ObjectName{Namespace: "default", Name: "old"}, e3); !ok || err != nil || r.count() != 3 {
		t.Errorf("execution without creator: allowed=%v err=%v after %d reviews, want allowed without a review", ok, err, r.count())
	}
}

func blockedCondition(s *v1alpha1.ExecutionStatus) *metav1.Condition {
	return meta.FindStatusCondition(s.Conditions, v1alpha1.ConditionJobsBlocked)
}

func TestRevokedPermissionStopsNewJobsUntilGrantedAgain(t *testing.T) {
	e := newExecution("revoke", task("a", 4))
	e.Spec.Creator = alice()
	e.Spec.Parallelism = ptr.To[int64](1)
	f := newFixture(t, nil, e)
	var r reviewer
	r.install(f.kube)
	r.allowed.Store(true)
	f.ctrl.permissions.interval = 20 * time.Millisecond
	f.run()

	f.waitCreated(1)
	r.allowed.Store(false)
	time.Sleep(30 * time.Millisecond) // the cached answer expires
	f.succeed("revoke.a.0")
	got := f.waitStatus("revoke", "JobsBlocked True", func(s *v1alpha1.ExecutionStatus) bool {
		c := blockedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	c := blockedCondition(&got.Status)
	if c.Reason != reasonPermissionRevoked || !strings.Contains(c.Message, `user "alice" may no longer create jobs in namespace default`) {
		t.Errorf("JobsBlocked = %s: %q, want PermissionRevoked naming alice", c.Reason, c.Message)
	}
	if got.Status.Message != c.Message || got.Status.Phase != v1alpha1.PhaseRunning {
		t.Errorf("status %s %q, want Running with the condition's message", got.Status.Phase, got.Status.Message)
	}
	f.waitEvent("Warning PermissionRevoked")
	asked := r.count()
	time.Sleep(100 * time.Millisecond)
	if n := len(f.created()); n != 1 {
		t.Fatalf("%d jobs created while the permission was revoked, want 1", n)
	}
	if r.count() <= asked || r.count() > asked+8 {
		t.Errorf("%d reviews in 100 ms with an interval of 20 ms", r.count()-asked)
	}

	r.allowed.Store(true)
	f.waitCreated(2)
	f.waitStatus("revoke", "JobsBlocked False", func(s *v1alpha1.ExecutionStatus) bool {
		c := blockedCondition(s)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reasonUnblocked
	})
}

func TestRefusedJobShowsJobsBlockedAndClears(t *testing.T) {
	e := newExecution("quota", task("a", 2))
	f := newFixture(t, nil, e)
	var refuse atomic.Bool
	refuse.Store(true)
	quotaMessage := "exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1"
	var refusals atomic.Int32
	f.kube.PrependReactor("create", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if refuse.Load() {
			refusals.Add(1)
			name := a.(clienttesting.CreateAction).GetObject().(*batchv1.Job).Name
			return true, nil, apierrors.NewForbidden(batchv1.Resource("jobs"), name, errString(quotaMessage))
		}
		return false, nil, nil
	})
	f.run()

	got := f.waitStatus("quota", "JobsBlocked True", func(s *v1alpha1.ExecutionStatus) bool {
		c := blockedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	c := blockedCondition(&got.Status)
	if c.Reason != reasonJobCreateRefused || !strings.Contains(c.Message, "job quota.a.0 could not be created: ") || !strings.Contains(c.Message, quotaMessage) {
		t.Errorf("JobsBlocked = %s: %q, want JobCreateRefused naming the job and quoting the quota", c.Reason, c.Message)
	}
	if got.Status.Phase == v1alpha1.PhaseFailed {
		t.Errorf("a refused Job failed the execution: %q", got.Status.Message)
	}
	f.waitEvent("Warning JobCreateRefused")
	// Job events sync the Execution at once; refused creations are still
	// spaced out by the backoff (1 s, then doubling).
	attempts := refusals.Load()
	for range 20 {
		if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).UpdateStatus(context.Background(), f.execution("quota"), metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := refusals.Load() - attempts; n > 1 {
		t.Errorf("%d creation attempts in 400 ms of syncs after a refusal, want at most 1", n)
	}

	refuse.Store(false)
	f.waitStatus("quota", "JobsBlocked False and both jobs created", func(s *v1alpha1.ExecutionStatus) bool {
		c := blockedCondition(s)
		return c != nil && c.Status == metav1.ConditionFalse && taskStatus(s, "a").Created == "0-1"
	})
	f.waitEvent("Normal JobsRunning")
}

type errString string

func (e errString) Error() string { return string(e) }

func TestPodRefusalShowsJobsBlockedUntilTheJobHasPods(t *testing.T) {
	e := newExecution("psa", task("a", 1))
	f := newFixture(t, nil, e)
	f.run()
	f.waitTask("psa", "a", "0", "", "")

	job, err := f.kube.BatchV1().Jobs(testNamespace).Get(context.Background(), "psa.a.0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The refusal is looked up in the Job cache, as it would be once the
	// Job controller has seen the Job.
	f.waitFor("job psa.a.0 in the controller's cache", func() bool {
		_, ok := f.ctrl.jobs.get(testNamespace, "psa.a.0")
		return ok
	})
	refusal := `Error creating: pods "psa.a.0-x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true`
	_, err = f.kube.CoreV1().Events(testNamespace).Create(context.Background(), &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "psa.a.0.1", Namespace: testNamespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Job", Namespace: testNamespace, Name: job.Name, UID: job.UID},
		Reason:         "FailedCreate", Type: corev1.EventTypeWarning, Message: refusal,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := f.waitStatus("psa", "JobsBlocked True", func(s *v1alpha1.ExecutionStatus) bool {
		c := blockedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	if c := blockedCondition(&got.Status); c.Reason != reasonPodCreateRefused || c.Message != "job psa.a.0 cannot create its pods: "+refusal {
		t.Errorf("JobsBlocked = %s: %q", c.Reason, c.Message)
	}

	job.Status.Active = 1
	if _, err := f.kube.BatchV1().Jobs(testNamespace).UpdateStatus(context.Background(), job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitStatus("psa", "JobsBlocked False", func(s *v1alpha1.ExecutionStatus) bool {
		c := blockedCondition(s)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	f.succeed("psa.a.0")
	done := f.waitStatus("psa", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	if c := blockedCondition(&done.Status); c.Message != "the execution has finished" {
		t.Errorf("JobsBlocked at the end: %q", c.Message)
	}
}
