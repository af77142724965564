package e2e

// End-to-end tests of the embedded controller against the local stack: the
// seed's three Executions run to completion with the seed's Jobs and
// vertices, in dependency order, and are garbage-collected; a failing task
// fails its Execution and nothing that depends on it starts.
//
// Every test works in its own namespace e2e-ctl-*, so it never meets the
// objects of other tests on the shared stack. Identifiers of these files
// start with ctl for the same reason (one package with the other e2e tests).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
	"kubegene.io/kubegene/test/seed"
)

// ctlLabel* are the labels the controller puts on every Job
// (pkg/controller: LabelExecution, LabelTask, LabelIndex).
const (
	ctlLabelExecution = "execution.kubegene.io/execution"
	ctlLabelTask      = "execution.kubegene.io/task"
	ctlLabelIndex     = "execution.kubegene.io/index"
)

// ctlMessageSucceeded is the seed's message of a succeeded Execution, and
// ctlVertexMessageSucceeded that of each of its vertices.
const (
	ctlMessageSucceeded       = "execution has run successfully"
	ctlVertexMessageSucceeded = "success"
)

// ctlVertex is what the contract fixes of a vertex.
type ctlVertex struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Children []string `json:"children,omitempty"`
	Phase    string   `json:"phase"`
	Message  string   `json:"message"`
}

// ctlSeedVertices are status.vertices of the seed's Execution name once it
// has succeeded, as the seed shows them: each vertex's id and name are its
// key, its children the seed's (test/seed), its phase Succeeded and its
// message "success". (The seed prints exec-iterate.a.1 with `name:
// exec-whole.a.1`, a copy-paste slip of the document: the name is the
// vertex's own. It does not print exec-volume's status; its tasks depend
// like exec-whole's.)
func ctlSeedVertices(name string) map[string]ctlVertex {
	out := map[string]ctlVertex{}
	for _, job := range seedJobs(name) {
		out[job] = ctlVertex{
			ID:       job,
			Name:     job,
			Children: seed.Children[job],
			Phase:    string(v1alpha1.PhaseSucceeded),
			Message:  ctlVertexMessageSucceeded,
		}
	}
	return out
}

func ctlTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "controller", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// ctlExampleFor returns artifacts/examples/NAME.yaml without its
// metadata.namespace (the examples say `namespace: default`), so that
// `kubectl apply -n NS` puts it into the test's namespace; the spec is
// untouched.
func ctlExampleFor(t testing.TB, f *framework.Framework, name string) string {
	t.Helper()
	data, err := os.ReadFile(f.Stack.Path("artifacts/examples/" + name + ".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("artifacts/examples/%s.yaml: %v", name, err)
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "namespace")
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// ctlApplySeedVolume applies the seed's PV and PVC (artifacts/examples/pv.yaml,
// pvc.yaml) for exec-volume in namespace ns and waits until the claim is
// Bound, as the seed says to check. The PV is cluster-scoped: it gets a
// unique name and is pre-bound to ns/exec-pvc (claimRef, volumeName), so it
// never binds another test's claim (e.g. default/exec-pvc) nor the other way
// round. It is deleted when the test ends.
func ctlApplySeedVolume(t testing.TB, f *framework.Framework, ns string) (pvName string) {
	t.Helper()
	pvName = "e2e-ctl-pv-" + framework.RandomSuffix()
	read := func(file string) map[string]any {
		data, err := os.ReadFile(f.Stack.Path("artifacts/examples/" + file))
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			t.Fatalf("artifacts/examples/%s: %v", file, err)
		}
		return obj
	}
	pv, pvc := read("pv.yaml"), read("pvc.yaml")
	pvcName := pvc["metadata"].(map[string]any)["name"].(string)
	pv["metadata"].(map[string]any)["name"] = pvName
	pv["spec"].(map[string]any)["claimRef"] = map[string]any{"namespace": ns, "name": pvcName}
	pvc["spec"].(map[string]any)["volumeName"] = pvName
	var docs []string
	for _, obj := range []map[string]any{pv, pvc} {
		out, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(out))
	}
	t.Cleanup(func() {
		// Runs before the namespace's deletion (cleanups are last in, first
		// out): the PV keeps its protection finalizer until the claim is gone
		// with the namespace, so do not wait here.
		f.Kubectl.Run("delete", "pv", pvName, "--wait=false", "--ignore-not-found")
	})
	f.Kubectl.Apply(strings.Join(docs, "---\n"), "-n", ns)
	f.WaitFor(time.Minute, "PVC "+ns+"/"+pvcName+" Bound", func() (bool, string) {
		r := f.Kubectl.Run("get", "pvc", pvcName, "-n", ns, "--template={{.status.phase}}")
		return r.Success() && r.Stdout == "Bound", r.Combined()
	})
	return pvName
}

// ctlJobs lists the Jobs in ns.
func ctlJobs(t testing.TB, k *framework.Kubectl, ns string) map[string]*batchv1.Job {
	t.Helper()
	var list batchv1.JobList
	k.GetJSON(&list, "get", "jobs", "-n", ns)
	jobs := make(map[string]*batchv1.Job, len(list.Items))
	for i := range list.Items {
		jobs[list.Items[i].Name] = &list.Items[i]
	}
	return jobs
}

func ctlSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ctlJobNames are the Jobs an Execution runs: EXECUTION.TASK.INDEX.
func ctlJobNames(e *v1alpha1.Execution) []string {
	var names []string
	for _, task := range e.Spec.Tasks {
		for i := range task.Commands {
			names = append(names, fmt.Sprintf("%s.%s.%d", e.Name, task.Name, i))
		}
	}
	return names
}

// ctlDependencies maps each Job of e to the Jobs it waits for: every job of
// a whole target, the same index of an iterate target.
func ctlDependencies(e *v1alpha1.Execution) map[string][]string {
	jobs := map[string]int{}
	for _, task := range e.Spec.Tasks {
		jobs[task.Name] = len(task.Commands)
	}
	deps := map[string][]string{}
	for _, task := range e.Spec.Tasks {
		for i := range task.Commands {
			name := fmt.Sprintf("%s.%s.%d", e.Name, task.Name, i)
			deps[name] = nil
			for _, d := range task.Dependents {
				if d.Type == v1alpha1.DependTypeIterate {
					deps[name] = append(deps[name], fmt.Sprintf("%s.%s.%d", e.Name, d.Target, i))
					continue
				}
				for j := 0; j < jobs[d.Target]; j++ {
					deps[name] = append(deps[name], fmt.Sprintf("%s.%s.%d", e.Name, d.Target, j))
				}
			}
		}
	}
	return deps
}

func ctlCondition(job *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// ctlCheckJobs checks the Jobs of a finished, succeeded Execution: exactly
// one Job per command, labelled and controlled by e, complete, and each
// created no earlier than every dependency completed.
//
// Timestamps on the wire have one-second granularity (RFC 3339 without
// fractions): metadata.creationTimestamp and status.completionTime are both
// cut to the second, so a Job created in the same second as its dependency
// completed compares equal, and the check is "created >= completed" at
// second granularity. It cannot catch a Job started up to a second too
// early; what it does catch is a Job started while its dependency was still
// running (a pod takes about a second on kwok, and the Job controller
// records completion only after that).
func ctlCheckJobs(t testing.TB, e *v1alpha1.Execution, jobs map[string]*batchv1.Job) {
	t.Helper()
	for _, task := range e.Spec.Tasks {
		for i := range task.Commands {
			name := fmt.Sprintf("%s.%s.%d", e.Name, task.Name, i)
			job := jobs[name]
			if job == nil {
				t.Errorf("job %s missing", name)
				continue
			}
			want := map[string]string{ctlLabelExecution: e.Name, ctlLabelTask: task.Name, ctlLabelIndex: strconv.Itoa(i)}
			for k, v := range want {
				if job.Labels[k] != v {
					t.Errorf("job %s: label %s=%q, want %q", name, k, job.Labels[k], v)
				}
			}
			if len(job.OwnerReferences) != 1 || job.OwnerReferences[0].UID != e.UID ||
				job.OwnerReferences[0].Kind != "Execution" || job.OwnerReferences[0].Controller == nil || !*job.OwnerReferences[0].Controller {
				t.Errorf("job %s: ownerReferences %+v, want one controller reference to Execution %s (uid %s)", name, job.OwnerReferences, e.Name, e.UID)
			}
			if !ctlCondition(job, batchv1.JobComplete) || job.Status.CompletionTime == nil {
				t.Errorf("job %s is not Complete: %+v", name, job.Status)
			}
			if c := job.Spec.Template.Spec.Containers; len(c) != 1 || !slices.Equal(c[0].Command, []string{"sh", "-c", task.Commands[i]}) || c[0].Image != task.Image {
				t.Errorf("job %s: containers %+v, want one of image %s running sh -c %q", name, c, task.Image, task.Commands[i])
			}
		}
	}
	if names := ctlSortedKeys(jobs); len(names) != len(ctlJobNames(e)) {
		t.Errorf("%d jobs %v, want %d", len(names), names, len(ctlJobNames(e)))
	}
	ctlCheckOrder(t, e, jobs)
}

// ctlCheckOrder: every Job's creationTimestamp >= every dependency's
// completionTime, at second granularity (see ctlCheckJobs).
func ctlCheckOrder(t testing.TB, e *v1alpha1.Execution, jobs map[string]*batchv1.Job) {
	t.Helper()
	violations := 0
	for name, deps := range ctlDependencies(e) {
		job := jobs[name]
		if job == nil {
			continue // reported by the caller
		}
		for _, dep := range deps {
			d := jobs[dep]
			switch {
			case d == nil:
				t.Errorf("job %s exists but its dependency %s does not", name, dep)
				violations++
			case d.Status.CompletionTime == nil:
				t.Errorf("job %s exists but its dependency %s has no completionTime", name, dep)
				violations++
			case job.CreationTimestamp.Before(d.Status.CompletionTime):
				t.Errorf("job %s was created at %s, before its dependency %s completed at %s",
					name, job.CreationTimestamp.UTC().Format(time.RFC3339), dep, d.Status.CompletionTime.UTC().Format(time.RFC3339))
				violations++
			}
			if violations > 20 {
				t.Fatalf("too many ordering violations")
			}
		}
	}
}

// ctlVertices extracts the contract's fields of status.vertices.
func ctlVertices(e *v1alpha1.Execution) map[string]ctlVertex {
	out := make(map[string]ctlVertex, len(e.Status.Vertices))
	for k, v := range e.Status.Vertices {
		out[k] = ctlVertex{ID: v.ID, Name: v.Name, Children: v.Children, Phase: string(v.Phase), Message: v.Message}
	}
	return out
}

// ctlWaitNoneLeft waits until ns holds no Executions, Jobs or Pods (the
// garbage collector deletes the Jobs of a deleted Execution, and the Pods
// of those Jobs, in the background).
func ctlWaitNoneLeft(t testing.TB, f *framework.Framework, ns string, timeout time.Duration) {
	t.Helper()
	k := f.Kubectl.For(t)
	framework.WaitFor(t, timeout, time.Second, "no executions, jobs or pods left in "+ns, func() (bool, string) {
		r := k.Run("get", "executions,jobs,pods", "-n", ns, "-o", "name")
		if !r.Success() {
			return false, r.Combined()
		}
		left := strings.TrimSpace(r.Stdout)
		return left == "", left
	})
}

// TestControllerSeedExamples runs the seed's three Executions as the seed
// does (one namespace, the PV and claim first) and checks what the seed
// shows: each reaches Succeeded with "execution has run successfully", the
// Jobs are exactly the seed's, status.vertices are the seed's, every Job
// started after its dependencies finished, and after `kubectl delete
// execution exec-whole exec-iterate exec-volume` no Job or Pod is left.
func TestControllerSeedExamples(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	k := f.Kubectl
	ns := f.CreateNamespace("e2e-ctl-seed")
	ctlApplySeedVolume(t, f, ns)

	for _, name := range seed.Examples {
		k.Apply(ctlExampleFor(t, f, name), "-n", ns)
	}
	args := []string{"wait", "--for=condition=Complete", "-n", ns, "--timeout=180s"}
	for _, name := range seed.Examples {
		args = append(args, "execution/"+name)
	}
	if r := k.WithTimeout(200 * time.Second).Run(args...); !r.Success() {
		// Say where each one is before failing.
		for _, name := range seed.Examples {
			k.Run("get", "execution", name, "-n", ns, "-o", "yaml")
		}
		k.Run("get", "jobs,pods", "-n", ns)
		t.Fatalf("the seed's executions did not complete:\n%s", r)
	}

	jobs := ctlJobs(t, k, ns)
	var wantJobs []string
	for _, name := range seed.Examples {
		e := f.GetExecution(ns, name)
		t.Run(name, func(t *testing.T) {
			if e.Status.Phase != v1alpha1.PhaseSucceeded || e.Status.Message != ctlMessageSucceeded {
				t.Errorf("phase %q message %q, want %q %q", e.Status.Phase, e.Status.Message, v1alpha1.PhaseSucceeded, ctlMessageSucceeded)
			}
			if e.Status.StartedAt == nil || e.Status.FinishedAt == nil || e.Status.FinishedAt.Before(e.Status.StartedAt) {
				t.Errorf("startedAt %v finishedAt %v, want both, in order", e.Status.StartedAt, e.Status.FinishedAt)
			}
			got, want := ctlVertices(e), ctlSeedVertices(name)
			if !ctlEqualJSON(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				t.Errorf("status.vertices (id, name, children, phase, message):\n%s\nwant the seed's:\n%s", g, w)
			}
			mine := map[string]*batchv1.Job{}
			for jobName, job := range jobs {
				if job.Labels[ctlLabelExecution] == name {
					mine[jobName] = job
				}
			}
			ctlCheckJobs(t, e, mine)
			if name == "exec-volume" {
				for jobName, job := range mine {
					spec := job.Spec.Template.Spec
					if len(spec.Volumes) != 1 || spec.Volumes[0].PersistentVolumeClaim == nil || spec.Volumes[0].PersistentVolumeClaim.ClaimName != "exec-pvc" ||
						len(spec.Containers[0].VolumeMounts) != 1 || spec.Containers[0].VolumeMounts[0].MountPath != "/tmp/hostvolume" {
						t.Errorf("job %s: volumes %+v mounts %+v, want claim exec-pvc at /tmp/hostvolume", jobName, spec.Volumes, spec.Containers[0].VolumeMounts)
					}
				}
			}
		})
		wantJobs = append(wantJobs, ctlJobNames(e)...)
	}
	slices.Sort(wantJobs)
	if got := ctlSortedKeys(jobs); !slices.Equal(got, wantJobs) {
		t.Errorf("kubectl get jobs -n %s lists %v, want exactly the seed's %v", ns, got, wantJobs)
	}

	// The seed's `kubectl get job` table: every Job 1/1.
	table := mustTable(t, k.MustRun("get", "jobs", "-n", ns).Stdout)
	for _, row := range table.Rows {
		if row["COMPLETIONS"] != "1/1" {
			t.Errorf("kubectl get jobs: %s COMPLETIONS %q, want 1/1", row["NAME"], row["COMPLETIONS"])
		}
	}

	// The seed's cleanup.
	k.MustRun(append([]string{"delete", "execution", "-n", ns}, seed.Examples...)...)
	ctlWaitNoneLeft(t, f, ns, 90*time.Second)
}

// ctlEqualJSON compares by JSON encoding, so that nil and empty lists are
// alike, as they are on the wire.
func ctlEqualJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// TestControllerFailingTask: a task whose Job fails (`exit 1`,
// backoffLimit 0) fails the Execution with a message naming the Job, and
// none of the Jobs that depend on it is ever created (a watch records every
// Job that appears).
func TestControllerFailingTask(t *testing.T) {
	t.Parallel()
	f := framework.New(t)
	k := f.Kubectl
	ns := f.CreateNamespace("e2e-ctl-fail")
	const name = "exec-failing"

	watch := k.Start(5*time.Minute, "get", "jobs", "-n", ns, "-w", "-o", `jsonpath={.metadata.name}{"\n"}`)
	k.Apply(string(ctlTestdata(t, "failing.yaml")), "-n", ns)
	if r := k.WithTimeout(200*time.Second).Run("wait", "--for=condition=Failed", "execution/"+name, "-n", ns, "--timeout=180s"); !r.Success() {
		k.Run("get", "execution", name, "-n", ns, "-o", "yaml")
		k.Run("get", "jobs,pods", "-n", ns, "-o", "wide")
		t.Fatalf("execution %s did not fail:\n%s", name, r)
	}
	e := f.GetExecution(ns, name)
	const badJob = name + ".bad.0"
	if e.Status.Phase != v1alpha1.PhaseFailed {
		t.Errorf("phase %q, want Failed", e.Status.Phase)
	}
	if !strings.Contains(e.Status.Message, badJob) {
		t.Errorf("message %q does not name the failed job %s", e.Status.Message, badJob)
	}
	if v := e.Status.Vertices[badJob]; v.Phase != v1alpha1.PhaseFailed {
		t.Errorf("vertex %s: phase %q message %q, want Failed", badJob, v.Phase, v.Message)
	}
	for _, j := range []string{name + ".a.0", name + ".a.1"} {
		if v := e.Status.Vertices[j]; v.Phase != v1alpha1.PhaseSucceeded {
			t.Errorf("vertex %s: phase %q, want Succeeded", j, v.Phase)
		}
	}
	dependents := []string{name + ".c.0", name + ".d.0", name + ".d.1"}
	for _, j := range dependents {
		if v := e.Status.Vertices[j]; v.Phase != v1alpha1.PhasePending {
			t.Errorf("vertex %s: phase %q, want Pending (never run)", j, v.Phase)
		}
	}

	// Give a wrongly started dependent time to show up, then look.
	time.Sleep(5 * time.Second)
	jobs := ctlJobs(t, k, ns)
	if got, want := ctlSortedKeys(jobs), []string{name + ".a.0", name + ".a.1", badJob}; !slices.Equal(got, want) {
		t.Errorf("jobs %v, want %v", got, want)
	}
	if job := jobs[badJob]; job == nil || !ctlCondition(job, batchv1.JobFailed) {
		t.Errorf("job %s is not Failed: %+v", badJob, job)
	}
	watch.Stop()
	for _, line := range watch.Lines() {
		if slices.Contains(dependents, strings.TrimSpace(line)) {
			t.Errorf("dependent job %s of the failed job was created", line)
		}
	}
	if e2 := f.GetExecution(ns, name); e2.Status.Phase != v1alpha1.PhaseFailed {
		t.Errorf("phase changed to %q after the failure", e2.Status.Phase)
	}
	// The failure is reported as an event on the Execution too.
	r := k.Run("get", "events", "-n", ns, "--field-selector", "involvedObject.name="+name, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
	if !strings.Contains(r.Stdout, badJob) {
		t.Logf("no event on %s names %s:\n%s", name, badJob, r.Stdout)
	}
}

// ctlBigExecution is an Execution of tasks t0..t(n-1) with jobsPerTask
// commands each, in a chain of alternating dependency types: t1 iterate t0,
// t2 whole t1, t3 iterate t2, ... parallelism 0 means no limit.
func ctlBigExecution(name string, tasks, jobsPerTask int, parallelism int64) *v1alpha1.Execution {
	e := &v1alpha1.Execution{}
	e.APIVersion = v1alpha1.SchemeGroupVersion.String()
	e.Kind = "Execution"
	e.Name = name
	if parallelism > 0 {
		e.Spec.Parallelism = &parallelism
	}
	for t := 0; t < tasks; t++ {
		task := v1alpha1.Task{Name: fmt.Sprintf("t%d", t), Type: v1alpha1.TaskTypeJob, Image: "ubuntu"}
		for i := 0; i < jobsPerTask; i++ {
			task.Commands = append(task.Commands, fmt.Sprintf("echo t%d-%d", t, i))
		}
		if t > 0 {
			typ := v1alpha1.DependTypeWhole
			if t%2 == 1 {
				typ = v1alpha1.DependTypeIterate
			}
			task.Dependents = []v1alpha1.Dependent{{Target: fmt.Sprintf("t%d", t-1), Type: typ}}
		}
		e.Spec.Tasks = append(e.Spec.Tasks, task)
	}
	return e
}

// ctlManifest renders an object as JSON for `kubectl apply -f -`.
func ctlManifest(t testing.TB, obj any) string {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
