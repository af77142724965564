package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/cmd/server"
	"kubegene.io/kubegene/test/seed"
)

// A clean shutdown stops the embedded etcd cleanly: a server started again
// on the same data directory has every object and its stored progress.
func TestRestartOnTheSameDataDirLosesNothing(t *testing.T) {
	dataDir := t.TempDir()
	ctx := context.Background()

	first := startServer(t, dataDir, nil)
	executions := first.Client.ExecutionV1alpha1().Executions("default")
	for _, name := range seed.Examples {
		if _, err := executions.Create(ctx, example(t, name), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e, err := executions.Get(ctx, "exec-iterate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.Status.Phase = v1alpha1.PhaseRunning
	e.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "1"}, {Name: "b", Created: "1"}}
	if _, err := executions.UpdateStatus(ctx, e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	before, err := executions.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first.stop(t)

	second := startServer(t, dataDir, nil)
	after, err := second.Client.ExecutionV1alpha1().Executions("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Items) != len(before.Items) {
		t.Fatalf("%d executions after restart, %d before", len(after.Items), len(before.Items))
	}
	for i := range before.Items {
		b, a := before.Items[i], after.Items[i]
		if a.UID != b.UID || a.ResourceVersion != b.ResourceVersion || a.Status.Phase != b.Status.Phase {
			t.Errorf("%s changed across the restart: uid %s→%s rv %s→%s phase %s→%s", b.Name, b.UID, a.UID, b.ResourceVersion, a.ResourceVersion, b.Status.Phase, a.Status.Phase)
		}
	}
	got, err := second.Client.ExecutionV1alpha1().Executions("default").Get(ctx, "exec-iterate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Status.Vertices["exec-iterate.b.1"]; v.Phase != v1alpha1.PhaseRunning {
		t.Errorf("progress lost across the restart: b.1 is %q", v.Phase)
	}
}

// The standard audit flags work with the example policy: creates are
// recorded with their user and body, reads are not.
func TestAuditLogWithTheExamplePolicy(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "audit.log")
	ts := startServer(t, "", func(o *server.Options) {
		o.RecommendedOptions.Audit.LogOptions.Path = logPath
		o.RecommendedOptions.Audit.LogOptions.BatchOptions.Mode = "blocking"
		o.RecommendedOptions.Audit.PolicyFile = filepath.Join("..", "..", "artifacts", "audit", "policy.yaml")
	})
	ctx := context.Background()
	executions := ts.Client.ExecutionV1alpha1().Executions("default")
	if _, err := executions.Create(ctx, example(t, "exec-whole"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := executions.Get(ctx, "exec-whole", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	ts.stop(t) // flushes the log

	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var creates, reads int
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var ev struct {
			Verb       string
			Level      string
			User       struct{ Username string }
			ObjectRef  struct{ Resource, Name string }
			RequestObj json.RawMessage `json:"requestObject"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &ev); err != nil {
			t.Fatalf("audit line is not JSON: %v", err)
		}
		if ev.ObjectRef.Resource != "executions" {
			continue
		}
		switch ev.Verb {
		case "create":
			creates++
			if ev.Level != "Request" || ev.User.Username != "system:apiserver" || len(ev.RequestObj) == 0 {
				t.Errorf("create event: level %s user %s body %d bytes", ev.Level, ev.User.Username, len(ev.RequestObj))
			}
		case "get", "list", "watch":
			reads++
		}
	}
	if creates != 1 || reads != 0 {
		t.Errorf("audit log has %d creates and %d reads of executions, want 1 and 0", creates, reads)
	}
}
