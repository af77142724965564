package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// jobsBlocked is the Execution's JobsBlocked condition, or nil.
func jobsBlocked(e *v1alpha1.Execution) *metav1.Condition {
	return meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionJobsBlocked)
}

// TestJobQuotaRefusalIsVisible: under a ResourceQuota of count/jobs.batch
// "1" the Execution says which job kube-apiserver refused and quotes the
// quota, with a Warning event; once the quota is raised it finishes and the
// condition clears.
func TestJobQuotaRefusalIsVisible(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-jobquota")
	k := f.Kubectl
	quota := func(n int) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: jobs\nspec:\n  hard:\n    count/jobs.batch: %q\n", fmt.Sprint(n))
	}
	k.Apply(quota(1), "-n", ns)
	f.WaitFor(2*time.Minute, "the quota's usage to be computed", func() (bool, string) {
		r := k.Run("get", "resourcequota", "jobs", "-n", ns, "-o", `jsonpath={.status.used.count/jobs\.batch}`)
		return strings.TrimSpace(r.Stdout) == "0", r.Combined()
	})
	k.Apply(controlManifest("capped", nil, controlTask("a", echoes("a", 3))), "-n", ns)

	var e *v1alpha1.Execution
	f.WaitFor(time.Minute, "condition JobsBlocked=True", func() (bool, string) {
		e = f.GetExecution(ns, "capped")
		c := jobsBlocked(e)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprint(e.Status.Conditions)
	})
	c := jobsBlocked(e)
	if c.Reason != "JobCreateRefused" || !regexpMatch(`^job capped\.a\.[12] could not be created: .*exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1`, c.Message) {
		t.Errorf("JobsBlocked = %s: %q, want JobCreateRefused naming the job and quoting the quota", c.Reason, c.Message)
	}
	if e.Status.Phase == v1alpha1.PhaseFailed {
		t.Errorf("the refusal failed the execution: %q", e.Status.Message)
	}
	events := k.MustRun("get", "events", "-n", ns, "--field-selector", "involvedObject.name=capped,type=Warning", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}").Stdout
	if !strings.Contains(events, "JobCreateRefused: job capped.a.") || !strings.Contains(events, "exceeded quota") {
		t.Errorf("no Warning event JobCreateRefused quoting the quota; events:\n%s", events)
	}

	k.Apply(quota(10), "-n", ns)
	e = f.WaitForExecutionPhase(ns, "capped", 3*time.Minute, v1alpha1.PhaseSucceeded)
	if c := jobsBlocked(e); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("JobsBlocked after the quota was raised: %+v, want False", c)
	}
}

// TestPermissionRevokedMidRun: a 50-job Execution with parallelism 1,
// created by a user whose RoleBinding is deleted while it runs, creates no
// new Job within 30 s (the permission check's interval) plus one batch,
// and says why.
func TestPermissionRevokedMidRun(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-revoke")
	f.Kubectl.MustRun("create", "rolebinding", "rita-edit", "--clusterrole=edit", "--user=rita", "-n", ns)
	rita := f.User("rita")
	rita.Apply(controlManifest("long", []string{"parallelism: 1"}, controlTask("a", echoes("a", 50))), "-n", ns)
	f.WaitFor(2*time.Minute, "3 jobs to succeed", func() (bool, string) {
		e := f.GetExecution(ns, "long")
		return len(taskStatusOf(e, "a").Succeeded) >= len("0-2"), fmt.Sprint(e.Status.Tasks)
	})
	e := f.GetExecution(ns, "long")
	if e.Spec.Creator == nil || e.Spec.Creator.Username != "rita" {
		t.Fatalf("spec.creator = %+v, want rita", e.Spec.Creator)
	}

	f.Kubectl.MustRun("delete", "rolebinding", "rita-edit", "-n", ns)
	revoked := time.Now()
	f.WaitFor(45*time.Second, "condition JobsBlocked=True, reason PermissionRevoked", func() (bool, string) {
		e = f.GetExecution(ns, "long")
		c := jobsBlocked(e)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == "PermissionRevoked", fmt.Sprint(e.Status.Conditions)
	})
	t.Logf("PermissionRevoked %v after the RoleBinding was deleted", time.Since(revoked).Round(time.Second))
	if c := jobsBlocked(e); !strings.Contains(c.Message, `user "rita" may no longer create jobs in namespace `+ns) {
		t.Errorf("JobsBlocked message %q does not say who may no longer create jobs where", c.Message)
	}
	if e.Status.Message != jobsBlocked(e).Message || e.Status.Phase != v1alpha1.PhaseRunning {
		t.Errorf("status: %s %q, want Running with the condition's message", e.Status.Phase, e.Status.Message)
	}
	// One batch: the job created just before the check may still run.
	created := jobCount(f, ns, e)
	time.Sleep(10 * time.Second)
	if now := jobCount(f, ns, e); now != created {
		t.Errorf("%d jobs when the condition appeared, %d ten seconds later: jobs were created after the permission was revoked", created, now)
	}
	if created >= 50 {
		t.Errorf("all 50 jobs were created: the revocation stopped nothing")
	}
}
