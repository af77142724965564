package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// podSecurityRefusal is how kube-apiserver's PodSecurity admission starts
// its refusal of a pod in a namespace enforcing "restricted".
const podSecurityRefusal = `violates PodSecurity "restricted`

// restrictedNamespace creates a namespace enforcing Pod Security
// "restricted" and checks that PodSecurity admission really refuses a plain
// pod there (it is on by default in kube-apiserver; without it the test
// would prove nothing).
func restrictedNamespace(f *framework.Framework, prefix string) string {
	f.T.Helper()
	ns := f.CreateNamespace(prefix)
	f.Kubectl.MustRun("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted", "--overwrite")
	f.WaitFor(30*time.Second, "PodSecurity admission to refuse a plain pod in "+ns, func() (bool, string) {
		r := f.Kubectl.Run("run", "probe", "-n", ns, "--image=busybox", "--restart=Never", "--dry-run=server", "--command", "--", "true")
		return !r.Success() && strings.Contains(r.Stderr, podSecurityRefusal), r.Combined()
	})
	return ns
}

// TestPodSecurity: Executions in a namespace enforcing Pod Security
// "restricted". With spec.securityContext (artifacts/examples/exec-restricted.yaml)
// the Jobs carry it, their pods are admitted, and the Execution succeeds;
// without it the pods are refused and the Execution says so.
func TestPodSecurity(t *testing.T) {
	t.Run("compliant securityContext runs", func(t *testing.T) {
		f := framework.New(t)
		ns := restrictedNamespace(f, "e2e-psa-ok")
		f.Kubectl.MustRun("apply", "-f", f.Stack.Path("artifacts/examples/exec-restricted.yaml"), "-n", ns)
		e := f.WaitForExecutionPhase(ns, "exec-restricted", 2*time.Minute, v1alpha1.PhaseSucceeded, v1alpha1.PhaseFailed)
		if e.Status.Phase != v1alpha1.PhaseSucceeded {
			t.Fatalf("phase %s, message %q, conditions %v", e.Status.Phase, e.Status.Message, e.Status.Conditions)
		}
		if jobs := f.JobsOwnedBy(ns, e.UID); len(jobs) != 5 {
			t.Errorf("%d jobs, want 5", len(jobs))
		}

		// The Execution's securityContext, with task b's runAsUser over it.
		for job, user := range map[string]int64{"exec-restricted.a.0": 1000, "exec-restricted.a.1": 1000, "exec-restricted.b.2": 2000} {
			out := f.Kubectl.MustRun("get", "job", job, "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].securityContext}").Stdout
			got := &corev1.SecurityContext{}
			if err := json.Unmarshal([]byte(out), got); err != nil {
				t.Fatalf("job %s: container securityContext %q: %v", job, out, err)
			}
			want := &corev1.SecurityContext{
				RunAsNonRoot:             ptr.To(true),
				RunAsUser:                ptr.To(user),
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}
			if !apiequality.Semantic.DeepEqual(got, want) {
				t.Errorf("job %s: container securityContext %s, want %+v", job, out, want)
			}
		}
	})

	t.Run("without securityContext the refusal is visible", func(t *testing.T) {
		f := framework.New(t)
		ns := restrictedNamespace(f, "e2e-psa-refused")
		f.Kubectl.Apply(framework.ExecutionManifest("plain", []string{"a", "b"},
			map[string][]string{"a": {"echo a0", "echo a1"}, "b": {"echo b0"}},
			map[string][]string{"b": {"a"}}), "-n", ns)
		var c *metav1.Condition
		f.WaitFor(30*time.Second, `condition JobsBlocked=True with the Pod Security refusal`, func() (bool, string) {
			e := f.GetExecution(ns, "plain")
			c = meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionJobsBlocked)
			return c != nil && c.Status == "True" && strings.Contains(c.Message, podSecurityRefusal),
				fmt.Sprintf("phase %q, message %q, conditions %v", e.Status.Phase, e.Status.Message, e.Status.Conditions)
		})
		t.Logf("JobsBlocked: %s: %s", c.Reason, c.Message)
		// kube-apiserver created the Jobs with a warning, which the
		// Execution shows too.
		e := f.GetExecution(ns, "plain")
		w := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionJobWarning)
		if w == nil || w.Status != "True" || !regexpMatch(`^creating job plain\.a\.[01], kube-apiserver warned: would violate PodSecurity "restricted:latest"`, w.Message) {
			t.Errorf("condition JobWarning = %+v, want the Pod Security warning of the Job's creation", w)
		}
	})
}
