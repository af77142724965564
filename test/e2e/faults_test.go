package e2e

// Fault tests: a component of the stack is restarted in the middle of a
// 200-Job Execution, which must still complete with every Job created
// exactly once. These tests restart shared components, so they never run in
// parallel with other tests (no t.Parallel: Go runs sequential tests alone).

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// ctlUIDRecorder records, for every Job that ever appears in a namespace,
// each distinct UID it had: from a `kubectl get jobs -w` stream (restarted
// whenever it exits, e.g. when kube-apiserver goes away) and from a list
// every second, so that a Job deleted and created again under the same name
// shows up as two UIDs.
type ctlUIDRecorder struct {
	t  testing.TB
	k  *framework.Kubectl
	ns string

	mu        sync.Mutex
	uids      map[string][]string
	firstSeen map[string]time.Time
	restarts  int

	stop chan struct{}
	done chan struct{}
}

const ctlJobUIDTemplate = `{.metadata.name} {.metadata.uid}{"\n"}`

func ctlRecordJobUIDs(t testing.TB, k *framework.Kubectl, ns string) *ctlUIDRecorder {
	r := &ctlUIDRecorder{
		t: t, k: k.WithTimeout(20 * time.Second), ns: ns,
		uids: map[string][]string{}, firstSeen: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	t.Cleanup(r.Stop)
	return r
}

func (r *ctlUIDRecorder) add(line string) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return
	}
	name, uid := f[0], f[1]
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.firstSeen[name]; !ok {
		r.firstSeen[name] = time.Now()
	}
	if !slices.Contains(r.uids[name], uid) {
		r.uids[name] = append(r.uids[name], uid)
	}
}

func (r *ctlUIDRecorder) run() {
	defer close(r.done)
	// Quiet copies: these run every second for minutes.
	quiet := *r.k
	k := quiet.For(nil)
	start := func() *framework.Stream {
		return r.k.Start(30*time.Minute, "get", "jobs", "-n", r.ns, "-w", "-o", "jsonpath="+ctlJobUIDTemplate)
	}
	stream := start()
	consumed := 0
	lastStart, lastList := time.Now(), time.Time{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		lines := stream.Lines()
		for _, line := range lines[consumed:] {
			r.add(line)
		}
		consumed = len(lines)
		if stream.Exited() && time.Since(lastStart) > time.Second {
			stream.Stop()
			stream, consumed, lastStart = start(), 0, time.Now()
			r.mu.Lock()
			r.restarts++
			r.mu.Unlock()
		}
		if time.Since(lastList) > time.Second {
			lastList = time.Now()
			res := k.Run("get", "jobs", "-n", r.ns, "-o", "jsonpath={range .items[*]}"+ctlJobUIDTemplate+"{end}")
			if res.Success() {
				for _, line := range strings.Split(res.Stdout, "\n") {
					r.add(line)
				}
			}
		}
		select {
		case <-r.stop:
			for _, line := range stream.Lines()[consumed:] {
				r.add(line)
			}
			stream.Stop()
			return
		case <-tick.C:
		}
	}
}

// Stop ends the recording; calling it again does nothing.
func (r *ctlUIDRecorder) Stop() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// Count is the number of distinct Job names seen so far.
func (r *ctlUIDRecorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.uids)
}

// snapshot returns the UIDs and first sightings recorded.
func (r *ctlUIDRecorder) snapshot() (map[string][]string, map[string]time.Time, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	uids := make(map[string][]string, len(r.uids))
	for k, v := range r.uids {
		uids[k] = slices.Clone(v)
	}
	seen := make(map[string]time.Time, len(r.firstSeen))
	for k, v := range r.firstSeen {
		seen[k] = v
	}
	return uids, seen, r.restarts
}

// ctlRestartMidExecution runs a 200-Job Execution (4 tasks × 50 Jobs,
// iterate/whole/iterate chain, at most 20 Jobs at a time so that it lasts),
// restarts component once a quarter or so of the Jobs exist, and checks
// that the Execution still succeeds with each of its 200 Jobs created
// exactly once: 200 Jobs at the end, and no Job name ever seen with two UIDs.
func ctlRestartMidExecution(t *testing.T, component string) {
	f := framework.New(t)
	k := f.Kubectl
	ns := f.CreateNamespace("e2e-ctl-fault")
	const (
		name        = "exec-fault"
		tasks       = 4
		jobsPerTask = 50
		total       = tasks * jobsPerTask
		restartAt   = 50
	)
	e := ctlBigExecution(name, tasks, jobsPerTask, 20)

	rec := ctlRecordJobUIDs(t, k, ns)
	t0 := time.Now()
	k.Apply(ctlManifest(t, e), "-n", ns)
	framework.WaitFor(t, 3*time.Minute, 250*time.Millisecond, fmt.Sprintf("%d jobs of %s to exist", restartAt, name), func() (bool, string) {
		n := rec.Count()
		return n >= restartAt, fmt.Sprintf("%d jobs", n)
	})
	before := rec.Count()
	restartBegan := time.Now()
	t.Logf("%d of %d jobs exist after %s; restarting %s", before, total, restartBegan.Sub(t0).Round(time.Millisecond), component)
	f.Stack.Restart(t, component)
	restartEnded := time.Now()
	after := rec.Count()
	t.Logf("%s back after %s; %d of %d jobs exist", component, restartEnded.Sub(restartBegan).Round(time.Millisecond), after, total)

	got := f.WaitForExecutionPhase(ns, name, 5*time.Minute, v1alpha1.PhaseSucceeded, v1alpha1.PhaseFailed)
	t.Logf("execution %s: phase %s after %s", name, got.Status.Phase, time.Since(t0).Round(time.Millisecond))
	if got.Status.Phase != v1alpha1.PhaseSucceeded || got.Status.Message != ctlMessageSucceeded {
		t.Errorf("phase %q message %q, want Succeeded %q", got.Status.Phase, got.Status.Message, ctlMessageSucceeded)
	}
	for _, ts := range got.Status.Tasks {
		if want := fmt.Sprintf("0-%d", jobsPerTask-1); ts.Created != want || ts.Succeeded != want || ts.Failed != "" {
			t.Errorf("status.tasks %s: created %q succeeded %q failed %q, want %q %q none", ts.Name, ts.Created, ts.Succeeded, ts.Failed, want, want)
		}
	}

	// A late duplicate would come right after the end; give it a moment.
	time.Sleep(3 * time.Second)
	jobs := ctlJobs(t, k, ns)
	rec.Stop()
	uids, firstSeen, watchRestarts := rec.snapshot()
	t.Logf("recorded %d job names; the job watch was restarted %d times", len(uids), watchRestarts)

	if len(jobs) != total {
		t.Errorf("%d jobs at the end, want %d", len(jobs), total)
	}
	ctlCheckJobs(t, got, jobs)
	want := ctlJobNames(e)
	slices.Sort(want)
	if names := ctlSortedKeys(uids); !slices.Equal(names, want) {
		t.Errorf("job names seen during the run: %d %v, want the execution's %d", len(names), names, len(want))
	}
	for jobName, u := range uids {
		if len(u) != 1 {
			t.Errorf("job %s was created %d times: uids %v", jobName, len(u), u)
		} else if job := jobs[jobName]; job != nil && string(job.UID) != u[0] {
			t.Errorf("job %s: uid %s at the end, %s when it appeared", jobName, job.UID, u[0])
		}
	}

	// The restart must have hit the middle of the run: Jobs appeared after
	// it began, and some only after the component was back.
	createdAfterBegin, createdAfterEnd := 0, 0
	for _, at := range firstSeen {
		if at.After(restartBegan) {
			createdAfterBegin++
		}
		if at.After(restartEnded) {
			createdAfterEnd++
		}
	}
	t.Logf("jobs first seen: %d before the restart, %d during it, %d after it", total-createdAfterBegin, createdAfterBegin-createdAfterEnd, createdAfterEnd)
	if before >= total || createdAfterEnd == 0 {
		t.Errorf("the restart of %s did not hit the middle of the run (%d jobs before it began, %d after it ended): make the execution longer", component, before, createdAfterEnd)
	}
	// Adoptions mean the restarted controller found Jobs it had not
	// recorded as created: expected after a restart, worth seeing.
	r := k.Run("get", "events", "-n", ns, "--field-selector", "involvedObject.name="+name, "-o",
		`jsonpath={range .items[*]}{.reason}{"\n"}{end}`)
	reasons := map[string]int{}
	for _, reason := range strings.Fields(r.Stdout) {
		reasons[reason]++
	}
	t.Logf("events on %s by reason: %v", name, reasons)
}

// TestFaultRestartExecutionAPIServer: the execution-apiserver (API and
// embedded controller) is stopped and started again in the middle of a run.
func TestFaultRestartExecutionAPIServer(t *testing.T) {
	ctlRestartMidExecution(t, "execution-apiserver")
}

// TestFaultKillExecutionAPIServer: the same with a crash instead of a
// graceful stop: LOCAL_UP_STOP_TIMEOUT=0 makes `hack/local-up.sh restart`
// send KILL right after TERM, so the server gets no time to finish a sync,
// write a status or release its Lease (the new instance waits for the
// Lease to expire, 15 s by default, before its controller starts).
func TestFaultKillExecutionAPIServer(t *testing.T) {
	t.Setenv("LOCAL_UP_STOP_TIMEOUT", "0")
	ctlRestartMidExecution(t, "execution-apiserver")
}

// TestFaultRestartKubeAPIServer: kube-apiserver is stopped and started again
// in the middle of a run; every watch of every component breaks.
func TestFaultRestartKubeAPIServer(t *testing.T) {
	ctlRestartMidExecution(t, "kube-apiserver")
}
