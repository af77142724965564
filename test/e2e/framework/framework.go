package framework

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// Framework is one test's view of the stack.
type Framework struct {
	T     testing.TB
	Stack *Stack
	// Kubectl is the built kubectl as the admin (system:masters).
	Kubectl *Kubectl
}

// New returns the framework for test t. It fails the test when Main did not
// set up a stack (the package's TestMain must call framework.Main).
func New(t testing.TB) *Framework {
	t.Helper()
	s := Current()
	if s == nil {
		t.Fatal("no local stack: TestMain must return framework.Main(m)")
	}
	return &Framework{T: t, Stack: s, Kubectl: s.kubectl(t)}
}

// KubectlAt returns a client that runs another kubectl binary (e.g. an
// older one) as the admin.
func (f *Framework) KubectlAt(path string) *Kubectl {
	k := f.Stack.kubectl(f.T)
	k.Path = path
	return k
}

// WaitFor polls cond every interval until it returns true, and fails the
// test after timeout with what cond last said about the state.
func WaitFor(t testing.TB, timeout, interval time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, state)
		}
		time.Sleep(interval)
	}
}

// WaitFor is WaitFor on the framework's test, polling every 500 ms.
func (f *Framework) WaitFor(timeout time.Duration, what string, cond func() (bool, string)) {
	f.T.Helper()
	WaitFor(f.T, timeout, 500*time.Millisecond, what, cond)
}

// RandomSuffix is 6 lower-case alphanumerics for unique object names.
func RandomSuffix() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

// CreateNamespace creates a namespace named PREFIX-XXXXXX (labelled
// kubegene.io/e2e=true), waits for its default ServiceAccount (pods need it)
// and deletes it when the test ends (see DeleteNamespace).
func (f *Framework) CreateNamespace(prefix string) string {
	f.T.Helper()
	name := prefix + "-" + RandomSuffix()
	f.Kubectl.Apply(fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    kubegene.io/e2e: "true"
`, name))
	f.T.Cleanup(func() { f.DeleteNamespace(name) })
	f.WaitFor(time.Minute, "the default ServiceAccount of namespace "+name, func() (bool, string) {
		r := f.Kubectl.Run("get", "serviceaccount", "default", "-n", name, "-o", "name")
		return r.Success(), r.Combined()
	})
	return name
}

// DeleteNamespace deletes the Executions in a namespace (waiting for them to
// go), then the namespace, and waits up to a minute for it to be gone.
//
// A namespace whose deletion is stuck (status condition
// NamespaceDeletionContentFailure, e.g. because the execution API cannot
// answer the namespace controller: see TestNamespaceDeletion) is logged and
// then finalized by hand, so that reruns on this stack start clean; the bug
// itself is TestNamespaceDeletion's to report.
func (f *Framework) DeleteNamespace(name string) {
	k := f.Kubectl
	k.Run("delete", "executions", "--all", "-n", name, "--wait=true", "--timeout=60s")
	k.Run("delete", "namespace", name, "--wait=false", "--ignore-not-found")
	deadline := time.Now().Add(time.Minute)
	var failingSince time.Time
	for time.Now().Before(deadline) {
		ns, found := f.namespace(name)
		if !found {
			return
		}
		if c := NamespaceCondition(ns, corev1.NamespaceDeletionContentFailure); c != nil && c.Status == corev1.ConditionTrue {
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > 3*time.Second {
				f.T.Logf("WARNING: namespace %s is stuck Terminating: %s: %s — finalizing it by hand", name, c.Reason, c.Message)
				f.forceFinalize(name)
				return
			}
		} else {
			failingSince = time.Time{}
		}
		time.Sleep(500 * time.Millisecond)
	}
	ns, found := f.namespace(name)
	if found {
		f.T.Logf("WARNING: namespace %s not gone after a minute (status %+v) — finalizing it by hand", name, ns.Status)
		f.forceFinalize(name)
	}
}

// NamespaceCondition returns the status condition of type typ of ns, or nil.
func NamespaceCondition(ns *corev1.Namespace, typ corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range ns.Status.Conditions {
		if ns.Status.Conditions[i].Type == typ {
			return &ns.Status.Conditions[i]
		}
	}
	return nil
}

// namespace reads a namespace; found is false when it does not exist. A
// namespace that exists but does not decode is logged and returned empty.
func (f *Framework) namespace(name string) (ns *corev1.Namespace, found bool) {
	r := f.Kubectl.Run("get", "namespace", name, "-o", "json", "--ignore-not-found")
	if !r.Success() || strings.TrimSpace(r.Stdout) == "" {
		return nil, false
	}
	ns = &corev1.Namespace{}
	if err := json.Unmarshal([]byte(r.Stdout), ns); err != nil {
		f.T.Logf("decoding namespace %s: %v", name, err)
	}
	return ns, true
}

// forceFinalize empties spec.finalizers through the finalize subresource.
func (f *Framework) forceFinalize(name string) {
	r := f.Kubectl.Run("get", "namespace", name, "-o", "json")
	if !r.Success() {
		return
	}
	ns := &corev1.Namespace{}
	if err := json.Unmarshal([]byte(r.Stdout), ns); err != nil {
		return
	}
	ns.Spec.Finalizers = nil
	body, err := json.Marshal(ns)
	if err != nil {
		return
	}
	f.Kubectl.Exec(string(body), "replace", "--raw", "/api/v1/namespaces/"+name+"/finalize", "-f", "-")
}

// User mints a client certificate for user name in groups
// (`hack/lib/pki.sh mint_user_cert`) and returns the built kubectl as that
// user.
func (f *Framework) User(name string, groups ...string) *Kubectl {
	f.T.Helper()
	cmd := exec.Command(filepath.Join(f.Stack.Root, "hack", "lib", "pki.sh"), append([]string{"mint_user_cert", name}, groups...)...)
	cmd.Dir = f.Stack.Root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		f.T.Fatalf("hack/lib/pki.sh mint_user_cert %s: %v", name, err)
	}
	k := f.Stack.kubectl(f.T)
	k.Kubeconfig = strings.TrimSpace(string(out))
	return k
}

// ExecutionManifest renders a minimal Execution: tasks as name -> commands
// (each task of image busybox, type Job), in the order given by order, with
// deps as task -> "target[:iterate]".
func ExecutionManifest(name string, order []string, commands map[string][]string, deps map[string][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: execution.kubegene.io/v1alpha1\nkind: Execution\nmetadata:\n  name: %s\nspec:\n  tasks:\n", name)
	for _, task := range order {
		fmt.Fprintf(&b, "  - name: %s\n    type: Job\n    image: busybox\n    commands:\n", task)
		for _, c := range commands[task] {
			q, _ := json.Marshal(c)
			fmt.Fprintf(&b, "    - %s\n", q)
		}
		if len(deps[task]) > 0 {
			b.WriteString("    dependents:\n")
			for _, d := range deps[task] {
				target, typ, _ := strings.Cut(d, ":")
				if typ == "" {
					typ = "whole"
				}
				fmt.Fprintf(&b, "    - target: %s\n      type: %s\n", target, typ)
			}
		}
	}
	return b.String()
}

// GetExecution reads an Execution with `kubectl get -o json
// --show-managed-fields`.
func (f *Framework) GetExecution(namespace, name string) *v1alpha1.Execution {
	f.T.Helper()
	e := &v1alpha1.Execution{}
	f.Kubectl.GetJSON(e, "get", "execution", name, "-n", namespace, "--show-managed-fields")
	return e
}

// WaitForExecutionPhase waits until the Execution is in one of phases and
// returns it.
func (f *Framework) WaitForExecutionPhase(namespace, name string, timeout time.Duration, phases ...v1alpha1.ExecutionPhase) *v1alpha1.Execution {
	f.T.Helper()
	var e *v1alpha1.Execution
	f.WaitFor(timeout, fmt.Sprintf("execution %s/%s in phase %v", namespace, name, phases), func() (bool, string) {
		r := f.Kubectl.Run("get", "execution", name, "-n", namespace, "-o", "json")
		if !r.Success() {
			return false, r.Combined()
		}
		got := &v1alpha1.Execution{}
		if err := json.Unmarshal([]byte(r.Stdout), got); err != nil {
			return false, err.Error()
		}
		e = got
		return slices.Contains(phases, got.Status.Phase), fmt.Sprintf("phase %q, message %q", got.Status.Phase, got.Status.Message)
	})
	return e
}

// JobsOwnedBy lists the Jobs in namespace whose ownerReferences name uid.
func (f *Framework) JobsOwnedBy(namespace string, uid types.UID) []batchv1.Job {
	f.T.Helper()
	list := &batchv1.JobList{}
	f.Kubectl.GetJSON(list, "get", "jobs", "-n", namespace)
	var out []batchv1.Job
	for _, j := range list.Items {
		for _, o := range j.OwnerReferences {
			if o.UID == uid {
				out = append(out, j)
				break
			}
		}
	}
	return out
}

// DeleteExecution deletes an Execution if it exists and waits until it and
// the Jobs it owned are gone (the garbage collector deletes them after it),
// so that an Execution of the same name can be created afresh.
func (f *Framework) DeleteExecution(namespace, name string) {
	f.T.Helper()
	r := f.Kubectl.Run("get", "execution", name, "-n", namespace, "-o", "jsonpath={.metadata.uid}", "--ignore-not-found")
	uid := types.UID(strings.TrimSpace(r.Stdout))
	if !r.Success() || uid == "" {
		return
	}
	f.Kubectl.MustRun("delete", "execution", name, "-n", namespace, "--ignore-not-found", "--wait=true", "--timeout=60s")
	f.WaitFor(time.Minute, fmt.Sprintf("the jobs of execution %s/%s to be garbage-collected", namespace, name), func() (bool, string) {
		jobs := f.JobsOwnedBy(namespace, uid)
		names := make([]string, len(jobs))
		for i, j := range jobs {
			names[i] = j.Name
		}
		return len(jobs) == 0, fmt.Sprintf("jobs left: %v", names)
	})
}

// ApplyExample applies artifacts/examples/NAME.yaml as it is (its own
// namespace, or default) after deleting any earlier Execution of that name,
// and deletes it when the test ends. It returns the object's namespace and
// what kubectl apply said.
func (f *Framework) ApplyExample(name string) (string, Result) {
	f.T.Helper()
	path := f.Stack.Path("artifacts/examples/" + name + ".yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		f.T.Fatal(err)
	}
	obj := &metav1.PartialObjectMetadata{}
	if err := yaml.Unmarshal(data, obj); err != nil {
		f.T.Fatalf("%s: %v", path, err)
	}
	ns := obj.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	if obj.Kind == "Execution" {
		f.DeleteExecution(ns, obj.Name)
		f.T.Cleanup(func() { f.DeleteExecution(ns, obj.Name) })
	}
	return ns, f.Kubectl.MustRun("apply", "-f", path, "-n", ns)
}
