package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	execfake "kubegene.io/kubegene/pkg/generated/clientset/versioned/fake"
)

const testNamespace = "default"

// fixture runs a Controller against fake clientsets and records every Job
// creation attempt in order.
type fixture struct {
	t        *testing.T
	kube     *kubefake.Clientset
	exec     *execfake.Clientset
	recorder *record.FakeRecorder
	ctrl     *Controller

	mu       sync.Mutex
	attempts []string
	events   []string
	// statuses are the statuses written through UpdateStatus, in order.
	statuses []v1alpha1.ExecutionStatus
	rv       int
	// conflicts counts updates refused for an old resourceVersion.
	conflicts int
}

func newFixture(t *testing.T, kubeObjects []runtime.Object, executions ...*v1alpha1.Execution) *fixture {
	t.Helper()
	objs := make([]runtime.Object, len(executions))
	for i, e := range executions {
		objs[i] = e
	}
	f := &fixture{
		t:        t,
		kube:     kubefake.NewSimpleClientset(kubeObjects...),
		exec:     execfake.NewSimpleClientset(objs...),
		recorder: record.NewFakeRecorder(1000),
	}
	f.kube.PrependReactor("create", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		f.recordAttempt(a.(clienttesting.CreateAction).GetObject().(*batchv1.Job).Name)
		return false, nil, nil
	})
	// Like a real server: a write based on an old resourceVersion
	// conflicts, and every write gets a new one.
	f.exec.PrependReactor("update", "executions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		e := a.(clienttesting.UpdateAction).GetObject().(*v1alpha1.Execution)
		f.mu.Lock()
		defer f.mu.Unlock()
		current, err := f.exec.Tracker().Get(v1alpha1.SchemeGroupVersion.WithResource("executions"), e.Namespace, e.Name)
		if err != nil {
			return true, nil, err
		}
		if rv := current.(*v1alpha1.Execution).ResourceVersion; e.ResourceVersion != "" && e.ResourceVersion != rv {
			f.conflicts++
			return true, nil, apierrors.NewConflict(v1alpha1.Resource("executions"), e.Name,
				fmt.Errorf("resourceVersion %s is not the current %s", e.ResourceVersion, rv))
		}
		f.rv++
		e.ResourceVersion = strconv.Itoa(100 + f.rv)
		if a.GetSubresource() == "status" {
			f.statuses = append(f.statuses, *e.Status.DeepCopy())
		}
		return false, nil, nil
	})
	ctrl, err := New(Config{KubeClient: f.kube, ExecutionClient: f.exec, Recorder: f.recorder})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = ctrl
	return f
}

// run starts the controller; it is stopped, and waited for, at cleanup.
func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.ctrl.Run(ctx, 2); err != nil {
			f.t.Errorf("controller: %v", err)
		}
	}()
	f.t.Cleanup(func() {
		cancel()
		<-done
	})
}

func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		f.t.Fatalf("timed out waiting for %s", what)
	}
}

func (f *fixture) recordAttempt(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, name)
}

// created returns the job creation attempts so far, in order.
func (f *fixture) created() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attempts)
}

// waitCreated waits for exactly n creation attempts in total.
func (f *fixture) waitCreated(n int) []string {
	f.t.Helper()
	f.waitFor(fmt.Sprintf("%d job creations", n), func() bool { return len(f.created()) >= n })
	got := f.created()
	if len(got) != n {
		f.t.Fatalf("job creations = %v, want %d of them", got, n)
	}
	return got
}

func (f *fixture) execution(name string) *v1alpha1.Execution {
	f.t.Helper()
	e, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// waitStatus waits until the stored status of the Execution satisfies cond.
func (f *fixture) waitStatus(name, what string, cond func(*v1alpha1.ExecutionStatus) bool) *v1alpha1.Execution {
	f.t.Helper()
	var e *v1alpha1.Execution
	f.waitFor(name+": "+what, func() bool {
		e = f.execution(name)
		return cond(&e.Status)
	})
	return e
}

// waitTask waits until task's stored state has the given sets.
func (f *fixture) waitTask(name, task, created, succeeded, failed string) *v1alpha1.Execution {
	f.t.Helper()
	return f.waitStatus(name, fmt.Sprintf("task %s created=%q succeeded=%q failed=%q", task, created, succeeded, failed),
		func(s *v1alpha1.ExecutionStatus) bool {
			ts := taskStatus(s, task)
			return ts.Created == created && ts.Succeeded == succeeded && ts.Failed == failed
		})
}

func taskStatus(s *v1alpha1.ExecutionStatus, task string) v1alpha1.TaskStatus {
	for _, ts := range s.Tasks {
		if ts.Name == task {
			return ts
		}
	}
	return v1alpha1.TaskStatus{}
}

// finish sets a terminal condition on a Job, as the Job controller does.
func (f *fixture) finish(name string, cond batchv1.JobConditionType, reason, message string) {
	f.t.Helper()
	jobs := f.kube.BatchV1().Jobs(testNamespace)
	job, err := jobs.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{
		Type: cond, Status: corev1.ConditionTrue, Reason: reason, Message: message,
	})
	if _, err := jobs.UpdateStatus(context.Background(), job, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) succeed(names ...string) {
	f.t.Helper()
	for _, n := range names {
		f.finish(n, batchv1.JobComplete, "", "")
	}
}

// waitEvent waits for an event whose text starts with prefix.
func (f *fixture) waitEvent(prefix string) {
	f.t.Helper()
	f.waitFor("event "+prefix, func() bool { return f.hasEvent(prefix) })
}

func (f *fixture) hasEvent(prefix string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		select {
		case ev := <-f.recorder.Events:
			f.events = append(f.events, ev)
			continue
		default:
		}
		break
	}
	return slices.ContainsFunc(f.events, func(ev string) bool { return strings.HasPrefix(ev, prefix) })
}

// countEvents returns how many events so far start with prefix.
func (f *fixture) countEvents(prefix string) int {
	f.hasEvent(prefix)
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ev := range f.events {
		if strings.HasPrefix(ev, prefix) {
			n++
		}
	}
	return n
}

func (f *fixture) writtenStatuses() []v1alpha1.ExecutionStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.statuses)
}

func (f *fixture) states() int {
	f.ctrl.mu.RLock()
	defer f.ctrl.mu.RUnlock()
	return len(f.ctrl.states)
}

func newExecution(name string, tasks ...v1alpha1.Task) *v1alpha1.Execution {
	return &v1alpha1.Execution{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNamespace, UID: types.UID(name + "-uid"), Generation: 1, ResourceVersion: "1",
		},
		Spec:   v1alpha1.ExecutionSpec{Tasks: tasks},
		Status: v1alpha1.ExecutionStatus{Phase: v1alpha1.PhasePending},
	}
}

func task(name string, jobs int, deps ...v1alpha1.Dependent) v1alpha1.Task {
	commands := make([]string, jobs)
	for i := range commands {
		commands[i] = fmt.Sprintf("echo %s%d", name, i+1)
	}
	return v1alpha1.Task{Name: name, Type: v1alpha1.TaskTypeJob, Image: "ubuntu", Commands: commands, Dependents: deps}
}

func whole(target string) v1alpha1.Dependent {
	return v1alpha1.Dependent{Target: target, Type: v1alpha1.DependTypeWhole}
}

func iterate(target string) v1alpha1.Dependent {
	return v1alpha1.Dependent{Target: target, Type: v1alpha1.DependTypeIterate}
}

// ownedJob is the Job the controller would have created for job index of
// task t, as found in the cluster after a restart.
func ownedJob(t *testing.T, e *v1alpha1.Execution, task, index int, conds ...batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	g, err := buildGraph(e)
	if err != nil {
		t.Fatal(err)
	}
	job := newJob(e, g, task, index)
	for _, c := range conds {
		job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return job
}

func assertSameSet(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Fatalf("%s = %v, want %v (in any order)", what, got, want)
	}
}
