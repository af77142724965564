package e2e

import (
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

const commandsIterManifest = `apiVersion: execution.kubegene.io/v1alpha1
kind: Execution
metadata:
  name: iter
spec:
  tasks:
  - name: a
    type: Job
    image: busybox
    commandsIter:
      command: "echo ${1} ${2}"
      varsIter:
      - [s1, s2]
      - [chr1, chr2, chr3]
    dependents: null
  - name: b
    type: Job
    image: busybox
    commands: ["echo b0", "echo b1", "echo b2", "echo b3", "echo b4", "echo b5"]
    dependents:
    - target: a
      type: iterate
`

// TestCommandsIter: a 2×3 commandsIter task and an iterate task of the same
// size run to Succeeded; job a.4 runs its combination (s1 chr3); the table
// and vertices have the usual shape.
func TestCommandsIter(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-iter")
	k := f.Kubectl
	k.Apply(commandsIterManifest, "-n", ns)
	e := f.WaitForExecutionPhase(ns, "iter", 2*time.Minute, v1alpha1.PhaseSucceeded)

	got := k.MustRun("get", "job", "iter.a.4", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].command}").Stdout
	if got != `["sh","-c","echo s1 chr3"]` {
		t.Errorf("job iter.a.4 runs %s, want [sh -c echo s1 chr3]", got)
	}
	if row := mustTable(t, k.MustRun("get", "execution", "iter", "-n", ns).Stdout).Row("NAME", "iter"); row == nil || row["PROGRESS"] != "12/12" {
		t.Errorf("table row %v, want PROGRESS 12/12", row)
	}
	if len(e.Status.Vertices) != 12 {
		t.Errorf("%d vertices, want 12", len(e.Status.Vertices))
	}
	if v := e.Status.Vertices["iter.a.4"]; strings.Join(v.Children, ",") != "iter.b.4" {
		t.Errorf("children of iter.a.4: %v, want iter.b.4", v.Children)
	}
	// A mistake is refused with its field path, and nothing is stored.
	bad := strings.Replace(commandsIterManifest, "echo ${1} ${2}", "echo ${1} ${3}", 1)
	bad = strings.Replace(bad, "name: iter", "name: iter-bad", 1)
	r := k.MustFailInput(bad, "apply", "-n", ns, "-f", "-")
	if !strings.Contains(r.Stderr, "spec.tasks[0].commandsIter.command") || !strings.Contains(r.Stderr, "${3} has no list") {
		t.Errorf("apply of a template with an unknown list: %s", r.Stderr)
	}
}
