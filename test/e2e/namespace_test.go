package e2e

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// TestNamespaceDeletion: deleting a namespace that holds an Execution removes
// everything in it. kube-controller-manager's namespace controller deletes
// each resource's collection asking for protobuf; an aggregated server must
// answer it or not offer protobuf, else every namespace stays Terminating
// for ever, even one without Executions (kubernetes/kubernetes#86666; the
// execution-apiserver offered protobuf for types without a protobuf encoding
// until it left protobuf out of its negotiated serializer).
func TestNamespaceDeletion(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-nsdelete")
	f.Kubectl.Apply(framework.ExecutionManifest("doomed", []string{"a"}, map[string][]string{"a": {"echo a"}}, nil), "-n", ns)

	f.Kubectl.MustRun("delete", "namespace", ns, "--wait=false")
	deadline := time.Now().Add(2 * time.Minute)
	var failingSince time.Time
	for {
		r := f.Kubectl.Run("get", "namespace", ns, "-o", "json", "--ignore-not-found")
		if r.Success() && r.Stdout == "" {
			break
		}
		obj := &corev1.Namespace{}
		_ = json.Unmarshal([]byte(r.Stdout), obj)
		if c := framework.NamespaceCondition(obj, corev1.NamespaceDeletionContentFailure); c != nil && c.Status == corev1.ConditionTrue {
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			// The namespace controller retries with back-off; a failure
			// that lasts is not a transient one.
			if time.Since(failingSince) > 15*time.Second {
				t.Fatalf("namespace %s cannot be deleted: %s: %s\n"+
					"(does the execution-apiserver offer protobuf for types without a protobuf encoding? "+
					"It must leave protobuf out of its negotiated serializer: kubernetes/kubernetes#86666)", ns, c.Reason, c.Message)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there two minutes after its deletion: %s", ns, r.Stdout)
		}
		time.Sleep(time.Second)
	}
	// Its Execution went with it.
	r := f.Kubectl.Run("get", "--raw", "/apis/execution.kubegene.io/v1alpha1/namespaces/"+ns+"/executions")
	list := &v1alpha1.ExecutionList{}
	if r.Success() {
		if err := json.Unmarshal([]byte(r.Stdout), list); err != nil || len(list.Items) != 0 {
			t.Errorf("executions left in deleted namespace %s: %s", ns, r.Stdout)
		}
	}
}
