package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// controlManifest is an Execution whose tasks are given as YAML lines, with
// spec fields before them, e.g. "failurePolicy: ContinueIndependent".
func controlManifest(name string, specFields []string, tasks ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: execution.kubegene.io/v1alpha1\nkind: Execution\nmetadata:\n  name: %s\nspec:\n", name)
	for _, f := range specFields {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	b.WriteString("  tasks:\n")
	for _, t := range tasks {
		b.WriteString(t)
	}
	return b.String()
}

// controlTask is one task: every job runs `sh -c COMMAND`; backoffLimit 0 so
// that a failing pod fails its Job at once.
func controlTask(name string, commands []string, waitsFor ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    type: Job\n    image: busybox\n    backoffLimit: 0\n    commands:\n", name)
	for _, c := range commands {
		fmt.Fprintf(&b, "    - %q\n", c)
	}
	b.WriteString("    dependents:")
	if len(waitsFor) == 0 {
		b.WriteString(" null\n")
	}
	b.WriteString("\n")
	for _, w := range waitsFor {
		fmt.Fprintf(&b, "    - target: %s\n      type: whole\n", w)
	}
	return b.String()
}

func echoes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("echo %s%d", prefix, i)
	}
	return out
}

func jobCount(f *framework.Framework, ns string, e *v1alpha1.Execution) int {
	return len(f.JobsOwnedBy(ns, e.UID))
}

// TestSuspendAndResume: a 20-job Execution suspended mid-run creates no
// Job while suspended (watched for 10 s), says so, and finishes once
// resumed.
func TestSuspendAndResume(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-suspend")
	k := f.Kubectl
	k.Apply(controlManifest("pausable", []string{"parallelism: 1"}, controlTask("a", echoes("a", 20))), "-n", ns)
	f.WaitFor(2*time.Minute, "a first job to succeed", func() (bool, string) {
		e := f.GetExecution(ns, "pausable")
		return strings.HasPrefix(taskStatusOf(e, "a").Succeeded, "0"), fmt.Sprint(e.Status.Tasks)
	})
	k.MustRun("patch", "execution", "pausable", "-n", ns, "--type", "merge", "-p", `{"spec":{"suspend":true}}`)
	e := f.WaitForExecutionPhase(ns, "pausable", time.Minute, v1alpha1.PhaseRunning)
	f.WaitFor(time.Minute, "condition Suspended=True", func() (bool, string) {
		e = f.GetExecution(ns, "pausable")
		c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionSuspended)
		return c != nil && c.Status == "True", fmt.Sprint(e.Status.Conditions)
	})
	if !strings.HasPrefix(e.Status.Message, "suspended") {
		t.Errorf("message while suspended: %q", e.Status.Message)
	}
	// The one Job running when the suspension came may finish; no other.
	time.Sleep(2 * time.Second)
	held := jobCount(f, ns, e)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if n := jobCount(f, ns, e); n != held {
			t.Fatalf("a Job was created while suspended: %d, then %d", held, n)
		}
	}
	if held >= 20 {
		t.Fatalf("all %d jobs had been created before the suspension: make the execution longer", held)
	}
	wide := k.MustRun("get", "execution", "pausable", "-n", ns, "-o", "wide").Stdout
	if row := mustTable(t, wide).Row("NAME", "pausable"); row == nil || row["SUSPENDED"] != "true" {
		t.Errorf("kubectl get -o wide while suspended:\n%s", wide)
	}
	t.Logf("%d of 20 jobs created before the suspension; none in 10 s while suspended", held)

	k.MustRun("patch", "execution", "pausable", "-n", ns, "--type", "merge", "-p", `{"spec":{"suspend":false}}`)
	e = f.WaitForExecutionPhase(ns, "pausable", 3*time.Minute, v1alpha1.PhaseSucceeded)
	if n := jobCount(f, ns, e); n != 20 {
		t.Errorf("%d jobs after resuming, want 20", n)
	}
	events := k.MustRun("get", "events", "-n", ns, "--field-selector", "involvedObject.name=pausable", "-o", "jsonpath={.items[*].reason}").Stdout
	for _, reason := range []string{"Suspended", "Resumed"} {
		if !strings.Contains(events, reason) {
			t.Errorf("no %s event: %s", reason, events)
		}
	}
}

func taskStatusOf(e *v1alpha1.Execution, task string) v1alpha1.TaskStatus {
	for _, ts := range e.Status.Tasks {
		if ts.Name == task {
			return ts
		}
	}
	return v1alpha1.TaskStatus{}
}

// TestRetrySubresource: a Failed Execution retried through its retry
// subresource (kubectl create --raw with {}) reaches Succeeded; the
// succeeded Jobs are not run again; a view user may not retry, an edit
// user may.
func TestRetrySubresource(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-retry")
	k := f.Kubectl
	k.MustRun("create", "rolebinding", "ed-edit", "--clusterrole=edit", "--user=ed", "-n", ns)
	k.MustRun("create", "rolebinding", "vic-view", "--clusterrole=view", "--user=vic", "-n", ns)
	ed, vic := f.User("ed"), f.User("vic")
	f.WaitFor(30*time.Second, "RBAC to let ed retry", func() (bool, string) {
		r := ed.Run("auth", "can-i", "create", "executions.execution.kubegene.io", "--subresource=retry", "-n", ns)
		return strings.TrimSpace(r.Stdout) == "yes", r.Combined()
	})

	ed.Apply(controlManifest("flaky", nil,
		controlTask("a", []string{"echo a0", "fail-on-first-attempt"}),
		controlTask("b", []string{"echo b0"}, "a")), "-n", ns)
	e := f.WaitForExecutionPhase(ns, "flaky", 2*time.Minute, v1alpha1.PhaseFailed)
	jobs := f.JobsOwnedBy(ns, e.UID)
	created := map[string]string{}
	for _, j := range jobs {
		created[j.Name] = j.CreationTimestamp.String()
	}
	if _, ok := created["flaky.b.0"]; ok || len(jobs) != 2 {
		t.Fatalf("before the retry: jobs %v, want a.0 and a.1 only", created)
	}

	body := filepath.Join(t.TempDir(), "retry.json")
	if err := os.WriteFile(body, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := "/apis/execution.kubegene.io/v1alpha1/namespaces/" + ns + "/executions/flaky/retry"
	assertForbidden(t, vic.MustFail("create", "--raw", path, "-f", body), "vic")
	ed.MustRun("create", "--raw", path, "-f", body)

	e = f.WaitForExecutionPhase(ns, "flaky", 2*time.Minute, v1alpha1.PhaseSucceeded)
	if e.Status.Attempts != 2 {
		t.Errorf("attempts %d, want 2", e.Status.Attempts)
	}
	after := map[string]string{}
	for _, j := range f.JobsOwnedBy(ns, e.UID) {
		after[j.Name] = j.CreationTimestamp.String() + " attempt " + j.Labels["execution.kubegene.io/attempt"]
	}
	if want := created["flaky.a.0"] + " attempt 1"; after["flaky.a.0"] != want {
		t.Errorf("the succeeded job a.0 after the retry: %q, want it untouched (%q)", after["flaky.a.0"], want)
	}
	if !strings.HasSuffix(after["flaky.a.1"], "attempt 2") || !strings.HasSuffix(after["flaky.b.0"], "attempt 2") {
		t.Errorf("jobs after the retry: %v; want a.1 and b.0 of attempt 2", after)
	}
	// Retrying what succeeded is a conflict.
	r := ed.MustFail("create", "--raw", path, "-f", body)
	if !strings.Contains(r.Stderr, "only a Failed execution can be retried") {
		t.Errorf("retry of a Succeeded execution: %s", r.Stderr)
	}
}

// TestContinueIndependent: a failed branch does not stop an independent
// one, which succeeds; the Execution ends Failed naming the failure.
func TestContinueIndependent(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-continue")
	f.Kubectl.Apply(controlManifest("branches", []string{"failurePolicy: ContinueIndependent"},
		controlTask("a", []string{"exit 1"}),
		controlTask("b", []string{"echo b0"}, "a"),
		controlTask("c", []string{"echo c0"}),
		controlTask("d", []string{"echo d0", "echo d1"}, "c")), "-n", ns)
	e := f.WaitForExecutionPhase(ns, "branches", 2*time.Minute, v1alpha1.PhaseFailed)
	if d := taskStatusOf(e, "d"); d.Succeeded != "0-1" {
		t.Errorf("the independent branch: task d %+v, want both jobs succeeded", d)
	}
	if b := taskStatusOf(e, "b"); b.Created != "" {
		t.Errorf("task b depends on the failed a and ran: %+v", b)
	}
	if !strings.HasPrefix(e.Status.Message, "job branches.a.0 failed") || !strings.Contains(e.Status.Message, "every job that did not depend on a failed job has run") {
		t.Errorf("message %q", e.Status.Message)
	}
}

// TestActiveDeadline: an Execution whose job never finishes ends
// Failed/DeadlineExceeded, and its running Job is deleted.
func TestActiveDeadline(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-deadline")
	f.Kubectl.Apply(controlManifest("slow", []string{"activeDeadlineSeconds: 5"},
		controlTask("a", []string{"run-until-deleted", "echo a1"}),
		controlTask("b", []string{"echo b0"}, "a")), "-n", ns)
	e := f.WaitForExecutionPhase(ns, "slow", 2*time.Minute, v1alpha1.PhaseFailed)
	c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionFailed)
	if c == nil || c.Reason != "DeadlineExceeded" || !strings.Contains(e.Status.Message, "active deadline of 5 seconds") {
		t.Errorf("condition %+v, message %q; want DeadlineExceeded", c, e.Status.Message)
	}
	f.WaitFor(time.Minute, "the running Job to be deleted", func() (bool, string) {
		jobs := f.JobsOwnedBy(ns, e.UID)
		for _, j := range jobs {
			if j.Name == "slow.a.0" {
				return false, "slow.a.0 is still there"
			}
		}
		return true, ""
	})
	if b := taskStatusOf(f.GetExecution(ns, "slow"), "b"); b.Created != "" {
		t.Errorf("task b started after the deadline: %+v", b)
	}
}

// TestTTLAfterFinished: a finished Execution and its Jobs are gone after
// ttlSecondsAfterFinished.
func TestTTLAfterFinished(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-ttl")
	f.Kubectl.Apply(controlManifest("brief", []string{"ttlSecondsAfterFinished: 3"}, controlTask("a", echoes("a", 2))), "-n", ns)
	e := f.WaitForExecutionPhase(ns, "brief", 2*time.Minute, v1alpha1.PhaseSucceeded)
	f.WaitFor(time.Minute, "the execution to be deleted after its TTL", func() (bool, string) {
		r := f.Kubectl.Run("get", "execution", "brief", "-n", ns, "--ignore-not-found", "-o", "name")
		return r.Success() && strings.TrimSpace(r.Stdout) == "", r.Combined()
	})
	f.WaitFor(time.Minute, "its Jobs to be garbage-collected", func() (bool, string) {
		n := jobCount(f, ns, e)
		return n == 0, fmt.Sprintf("%d jobs left", n)
	})
}

// TestDeleteAndReapply: an Execution deleted and applied again at once
// waits for its predecessor's Jobs to be garbage-collected and succeeds.
func TestDeleteAndReapply(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-again")
	manifest := controlManifest("again", nil, controlTask("a", echoes("a", 3)), controlTask("b", []string{"echo b"}, "a"))
	f.Kubectl.Apply(manifest, "-n", ns)
	first := f.WaitForExecutionPhase(ns, "again", 2*time.Minute, v1alpha1.PhaseSucceeded)
	f.Kubectl.MustRun("delete", "execution", "again", "-n", ns, "--wait=false")
	f.Kubectl.Apply(manifest, "-n", ns)
	second := f.WaitForExecutionPhase(ns, "again", 3*time.Minute, v1alpha1.PhaseSucceeded, v1alpha1.PhaseFailed)
	if second.UID == first.UID || second.Status.Phase != v1alpha1.PhaseSucceeded {
		t.Fatalf("re-applied execution: uid %s (first %s), phase %s: %s", second.UID, first.UID, second.Status.Phase, second.Status.Message)
	}
	if n := jobCount(f, ns, second); n != 4 {
		t.Errorf("%d Jobs of the new execution, want 4", n)
	}
}
