package e2e

// BenchmarkScaleExecutionVsJobs (issue 10) runs N Jobs as one Execution and
// the same Jobs created by one plain client, on the same stack in the same
// run, one variant after the other:
//
//	exec    one Execution: task `align`, a commandsIter of N jobs
//	        (`echo sample-${1}-${2} && sleep 0` over samples × chunks), and
//	        task `merge`, one job waiting `whole` for align: N+1 Jobs;
//	all     the same N+1 Jobs with client-go: the N align Jobs created at
//	        once by KUBEGENE_SCALE_CLIENTS goroutines (16) as fast as the
//	        client and the API allow, the merge Job once all have completed;
//	window  the same, but at most KUBEGENE_SCALE_WINDOW (300) Jobs created
//	        and not finished: a new one is created as one completes;
//	dressed the window, its Jobs carrying the metadata the controller puts
//	        on its own (scaleDressJob: its labels on the Job and its pods,
//	        the creator annotation, a controller ownerReference to an object
//	        that exists; the keys in a group of the same length that the
//	        controller does not watch): what the Execution's Jobs cost the
//	        cluster apart from how they are fed. A diagnostic: no goal
//	        compares with it.
//
// The plain client watches the Jobs it created with a Job informer of its
// own (scaleFeed): the window's slots are freed, and merge is created, from
// what it sees, as the controller's are from its own watch.
//
// Plain Jobs are ctlNaiveJob (the controller's container, image, `sh -c`
// command, restart policy and backoff, without its labels), named as the
// controller names them (scale.align.I, scale.merge.0) in their own
// namespace, so kwok's stages (hack/kwok/stages: pod-ready, then
// pod-complete for a pod owned by a Job whose command[2] is none of the
// failing commands) treat both alike. The plain variants create their Jobs
// with scaleFeedingClient: QPS 100, burst 200 (the controller's
// --kube-api-qps/--kube-api-burst), protobuf and no compression, as the
// controller's Job client. Every variant's completions are measured with
// ctlBenchClients' client (JSON, client-go's default compression), which
// drives nothing.
//
//	KUBEGENE_SCALE_JOBS=20000 go test -run '^$' -bench ScaleExecutionVsJobs -benchtime 1x -timeout 3h ./test/e2e/
//
// Environment: KUBEGENE_SCALE_JOBS (N, default 20000), KUBEGENE_SCALE_WINDOW
// (300), KUBEGENE_SCALE_CLIENTS (16), KUBEGENE_SCALE_FIRST (the "first
// completions" mark: 1000, at most N/2), KUBEGENE_SCALE_TIMEOUT (per variant,
// a Go duration; default 5 min + 100 ms per job), KUBEGENE_SCALE_VARIANTS
// (which variants run, in which order: "exec,all,window"; the wall ratio
// needs exec and a plain variant, the first-completions ratio exec and
// window; a variant may run more than once, and the ratios then compare
// the means of its runs: "window,exec,window" puts the windows' mean where
// the Execution ran, so that the stack's ageing over the run cancels),
// KUBEGENE_SCALE_KEEP_NAMESPACES=1 (the namespace's deletion is not waited
// for: for a run by hand of one variant, followed by hack/local-up.sh down
// --clean), KUBEGENE_SCALE_RESTART=1 (once the Execution succeeded, the
// execution-apiserver is restarted over its N+1 finished Jobs: the time
// until its controller left them all out of its cache, its peak RSS since
// the restart (VmHWM) less the idle RSS of before the run, and the Jobs
// it caches then), KUBEGENE_SCALE_CLUSTER_CPUS (e.g. 1.75: the cluster's
// processes run in a cgroup limited to that much CPU, the feeders outside
// it, so that what a feeder costs does not take the cluster's CPU; see
// scale_cgroup_test.go).
//
// Measured per variant, all from the same Job informer in the test process:
// wall time (first create → last Job's completion seen), time to the first
// 1,000 completions, time until 300 (the window) Jobs were seen created,
// completions/s, the Jobs created and not finished (their mean over time and
// the most at once), a Job's run (first seen → seen complete: mean, p50,
// p90), last align completion → merge completion; for the Execution also
// create → phase Succeeded seen (GETs every 100 ms once its last Job has
// completed; before that a Failed phase is looked for in etcd rather than
// with GETs, which render status.vertices on the server). Sampled every
// 2 s from /proc, with the pids in _output/local/pids: the
// execution-apiserver's RSS, CPU time and start time (not from its /metrics,
// whose scrapes would load the server measured; its idle RSS is the least of
// three samples before the variant starts), kube-apiserver's RSS (its
// /metrics is megabytes), and the Execution's size
// as stored in the execution-apiserver's etcd. From kube-apiserver's and
// etcd's /metrics before and after each variant, background work that
// lands in whichever variant it happens in (scaleBackground): the Go
// runtime's estimate of kube-apiserver's GC CPU, etcd's compactions.
// Between variants the
// namespace is deleted and the benchmark waits until it is gone (the
// namespace controller removes it only once its Jobs and pods are).
//
// Goals: exec wall ≤ 1.0 × the better plain wall; exec's first 1,000
// completions no later than the window's. A failed Job, an Execution that
// does not succeed, or a variant past its timeout fails the benchmark.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/cmd/server"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned"
	"kubegene.io/kubegene/test/e2e/framework"
)

const (
	scaleName      = "scale"
	scaleImage     = "ubuntu"
	scaleTemplate  = "echo sample-${1}-${2} && sleep 0"
	scaleMergeCmd  = "echo merge-all && sleep 0"
	scaleSampleGap = 2 * time.Second
	mib            = 1 << 20
)

// scaleParams are the benchmark's settings (see the file comment).
type scaleParams struct {
	jobs, window, clients, first int
	timeout                      time.Duration
	// samples × chunks = jobs: the commandsIter lists.
	samples, chunks []string
	// variants run, in this order. A variant may run more than once: the
	// ratios then compare the means of its runs (see scaleCompare).
	variants []scaleVariant
	// keepNamespaces: the deletion of the variant's namespace is not
	// waited for (a 100,000-job namespace takes the namespace controller
	// half an hour); one variant only.
	keepNamespaces bool
	// restart: once the Execution succeeded, the execution-apiserver is
	// restarted over its N+1 finished Jobs, and what that costs measured.
	restart bool
	// clusterCPUs, when not 0, confines the cluster's processes to that
	// much CPU time per second (scale_cgroup_test.go).
	clusterCPUs float64
}

// scaleVariant is one of the three ways the benchmark runs the N jobs.
type scaleVariant int

const (
	scaleExec scaleVariant = iota
	scaleAll
	scaleWindow
	scaleDressed
)

// scaleVariantKeys name the variants, by scaleVariant, in
// KUBEGENE_SCALE_VARIANTS and in the reported metrics.
var scaleVariantKeys = [...]string{"exec", "all", "window", "dressed"}

// name is the variant's name in the table, the window's with its size.
func (v scaleVariant) name(window int) string {
	switch v {
	case scaleExec:
		return "Execution"
	case scaleAll:
		return "all at once"
	case scaleDressed:
		return fmt.Sprintf("window %d, dressed", window)
	}
	return fmt.Sprintf("window %d", window)
}

func scaleEnvInt(b *testing.B, name string, def, lo int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		b.Fatalf("%s=%q: want an integer ≥ %d", name, v, lo)
	}
	return n
}

func scaleParamsFromEnv(b *testing.B) scaleParams {
	p := scaleParams{
		jobs:    scaleEnvInt(b, "KUBEGENE_SCALE_JOBS", 20000, 2),
		window:  scaleEnvInt(b, "KUBEGENE_SCALE_WINDOW", 300, 1),
		clients: scaleEnvInt(b, "KUBEGENE_SCALE_CLIENTS", 16, 1),
	}
	if p.jobs >= 100000 {
		b.Fatalf("KUBEGENE_SCALE_JOBS=%d: N+1 jobs must stay within the server's default --max-jobs-per-execution (100000)", p.jobs)
	}
	p.first = min(scaleEnvInt(b, "KUBEGENE_SCALE_FIRST", 1000, 1), p.jobs/2)
	p.keepNamespaces = os.Getenv("KUBEGENE_SCALE_KEEP_NAMESPACES") == "1"
	p.restart = os.Getenv("KUBEGENE_SCALE_RESTART") == "1"
	if v := os.Getenv("KUBEGENE_SCALE_CLUSTER_CPUS"); v != "" {
		cpus, err := strconv.ParseFloat(v, 64)
		if err != nil || cpus < 0.1 || cpus >= float64(runtime.NumCPU()) {
			b.Fatalf("KUBEGENE_SCALE_CLUSTER_CPUS=%q: want CPUs for the cluster, at least 0.1 and fewer than this machine's %d, so that the feeders have some of their own", v, runtime.NumCPU())
		}
		p.clusterCPUs = cpus
	}
	variants := "exec,all,window"
	if v := os.Getenv("KUBEGENE_SCALE_VARIANTS"); v != "" {
		variants = v
	}
	for _, key := range strings.Split(variants, ",") {
		v := slices.Index(scaleVariantKeys[:], strings.TrimSpace(key))
		if v < 0 {
			b.Fatalf("KUBEGENE_SCALE_VARIANTS=%q: want names among exec, all, window, dressed, comma-separated (a name may repeat: window,exec,window)", variants)
		}
		p.variants = append(p.variants, scaleVariant(v))
	}
	if p.keepNamespaces && len(p.variants) > 1 {
		b.Fatalf("KUBEGENE_SCALE_KEEP_NAMESPACES=1 with %d variants: the next variant would run beside the last one's Jobs still being deleted; run one variant at a time", len(p.variants))
	}
	p.timeout = 5*time.Minute + time.Duration(p.jobs)*100*time.Millisecond
	if v := os.Getenv("KUBEGENE_SCALE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("KUBEGENE_SCALE_TIMEOUT=%q: want a positive Go duration (e.g. 40m)", v)
		}
		p.timeout = d
	}
	// The largest divisor of N up to √N: samples × chunks = N, both lists
	// as long as N allows.
	s := 1
	for d := 1; d*d <= p.jobs; d++ {
		if p.jobs%d == 0 {
			s = d
		}
	}
	for i := range s {
		p.samples = append(p.samples, fmt.Sprintf("NA%05d", 10001+i))
	}
	for i := range p.jobs / s {
		p.chunks = append(p.chunks, fmt.Sprintf("chunk%04d", i))
	}
	return p
}

// command is align job i's command, as pkg/dag generates it from the
// template: the first list (samples) varies fastest.
func (p scaleParams) command(i int) string {
	s := len(p.samples)
	return strings.NewReplacer("${1}", p.samples[i%s], "${2}", p.chunks[i/s]).Replace(scaleTemplate)
}

func scaleJobName(task string, i int) string { return fmt.Sprintf("%s.%s.%d", scaleName, task, i) }

func (p scaleParams) execution() *v1alpha1.Execution {
	e := &v1alpha1.Execution{}
	e.Name = scaleName
	e.Spec.Tasks = []v1alpha1.Task{{
		Name:         "align",
		Type:         v1alpha1.TaskTypeJob,
		Image:        scaleImage,
		CommandsIter: &v1alpha1.CommandsIter{Command: scaleTemplate, VarsIter: [][]string{p.samples, p.chunks}},
	}, {
		Name:       "merge",
		Type:       v1alpha1.TaskTypeJob,
		Image:      scaleImage,
		Commands:   []string{scaleMergeCmd},
		Dependents: []v1alpha1.Dependent{{Target: "align", Type: v1alpha1.DependTypeWhole}},
	}}
	return e
}

// scaleTracker follows the Jobs of one namespace: when each was first seen
// and when each was first seen finished.
type scaleTracker struct {
	mu          sync.Mutex
	finished    ctlFinishes
	completions []time.Time // in the order seen
	failed      []string
	added       int
	// allAdded is when the informer had seen want Jobs, windowAdded when
	// it had seen window: the start-up of the Jobs' creation.
	want, window          int
	allAdded, windowAdded time.Time
	maxOpen               int // most Jobs seen created and not finished at once
	// openSeconds is the integral of the Jobs created and not finished
	// over time, from the first Job seen to openChanged, the last change:
	// divided by that time, the mean in flight, which with the Jobs' mean
	// run time sets the completions' rate (Little's law).
	firstSeen, openChanged time.Time
	openSeconds            float64
	// runTimes are, per completed Job, first seen → seen complete.
	runTimes []time.Duration
	changed  chan struct{}
	cancel   context.CancelFunc
}

func scaleTrack(b *testing.B, kube kubernetes.Interface, ns string, p scaleParams) *scaleTracker {
	tr := &scaleTracker{finished: ctlFinishes{}, want: p.jobs, window: min(p.window, p.jobs), changed: make(chan struct{}, 1)}
	seen := map[string]time.Time{}
	tr.cancel = ctlWatchJobs(b, kube, ns, func(job *batchv1.Job) {
		now := time.Now()
		tr.mu.Lock()
		if tr.firstSeen.IsZero() {
			tr.firstSeen, tr.openChanged = now, now
		}
		tr.openSeconds += float64(tr.added-len(tr.finished)) * now.Sub(tr.openChanged).Seconds()
		tr.openChanged = now
		if _, ok := seen[job.Name]; !ok {
			seen[job.Name] = now
			tr.added++
			if tr.added == tr.want {
				tr.allAdded = now
			}
			if tr.added == tr.window {
				tr.windowAdded = now
			}
		}
		newlyFinished, done := tr.finished.first(job)
		if newlyFinished {
			if done {
				tr.completions = append(tr.completions, now)
				tr.runTimes = append(tr.runTimes, now.Sub(seen[job.Name]))
			} else {
				msg := ""
				for _, c := range job.Status.Conditions {
					if c.Type == batchv1.JobFailed {
						msg = c.Reason + ": " + c.Message
					}
				}
				tr.failed = append(tr.failed, job.Name+" ("+msg+")")
			}
		}
		tr.maxOpen = max(tr.maxOpen, tr.added-len(tr.finished))
		tr.mu.Unlock()
		if newlyFinished {
			select {
			case tr.changed <- struct{}{}:
			default:
			}
		}
	})
	return tr
}

func (tr *scaleTracker) stop() { tr.cancel() }

func (tr *scaleTracker) state() (completed, added int, failed []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.completions), tr.added, slices.Clone(tr.failed)
}

// waitCompleted waits until n Jobs completed. A failed Job, an error from
// check (called every 5 s), or the deadline is fatal.
func (tr *scaleTracker) waitCompleted(b *testing.B, what string, n int, start, deadline time.Time, check func() error) {
	b.Helper()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	lastLog := time.Now()
	for {
		completed, added, failed := tr.state()
		if len(failed) > 0 {
			b.Fatalf("%s: %d job(s) failed, first %s", what, len(failed), failed[0])
		}
		if completed >= n {
			return
		}
		select {
		case <-tr.changed:
		case <-tick.C:
			if check != nil {
				if err := check(); err != nil {
					b.Fatalf("%s: %v (%d of %d jobs complete, %d created)", what, err, completed, n, added)
				}
			}
			if time.Since(lastLog) >= 30*time.Second {
				lastLog = time.Now()
				// To stdout as well: go test shows a benchmark's log only
				// at its end, and truncated; a run by hand of an hour is
				// followed by these lines.
				line := fmt.Sprintf("%s: %s in, %d of %d jobs complete, %d created", what, time.Since(start).Round(time.Second), completed, n, added)
				b.Log(line)
				fmt.Printf("%s %s\n", time.Now().Format("15:04:05"), line)
			}
		case <-timer.C:
			b.Fatalf("%s: timed out: %d of %d jobs complete (%d created) after %s (KUBEGENE_SCALE_TIMEOUT)", what, completed, n, added, time.Since(start).Round(time.Second))
		}
	}
}

// scaleSeries is the largest and last of a sampled value.
type scaleSeries struct {
	first, peak, last float64
	n, errs           int
	err               error
}

func (s *scaleSeries) add(v float64, err error) {
	if err != nil {
		s.errs++
		if s.err == nil {
			s.err = err
		}
		return
	}
	if s.n == 0 {
		s.first = v
	}
	s.n++
	s.peak = max(s.peak, v)
	s.last = v
}

// scaleProbes read the processes' RSS and the stored Execution.
type scaleProbes struct {
	stack    *framework.Stack
	kube     kubernetes.Interface
	etcd     *clientv3.Client
	etcdKey  string
	kubePID  int
	pidError error
	// cluster is the cgroup the cluster's processes run in, with
	// KUBEGENE_SCALE_CLUSTER_CPUS; nil without.
	cluster *framework.CPUCgroup
}

func scaleNewProbes(b *testing.B, s *framework.Stack, kube kubernetes.Interface) *scaleProbes {
	p := &scaleProbes{stack: s, kube: kube}
	p.kubePID, p.pidError = scaleComponentPID(s, "kube-apiserver")
	if p.pidError != nil {
		b.Logf("kube-apiserver RSS from its /metrics (%v)", p.pidError)
	}
	endpoint, prefix, err := s.ExecutionEtcd()
	if err != nil {
		b.Fatalf("cannot read what the execution-apiserver stores: %v", err)
	}
	p.etcd, err = clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		b.Fatalf("etcd client for %s: %v", endpoint, err)
	}
	b.Cleanup(func() { p.etcd.Close() })
	p.etcdKey = path.Join(prefix, "execution.kubegene.io", "executions") // + /NS/NAME
	return p
}

// scaleComponentPID is the pid hack/local-up.sh recorded for component,
// when it still runs component's binary.
func scaleComponentPID(s *framework.Stack, component string) (int, error) {
	raw, err := os.ReadFile(filepath.Join(s.LocalDir, "pids", component+".pid"))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, err
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(exe, filepath.Join(s.BinDir, component)) {
		return 0, fmt.Errorf("pid %d runs %s, not %s", pid, exe, component)
	}
	return pid, nil
}

// execServer is the execution-apiserver's RSS, CPU seconds and start time
// (Unix seconds), read from /proc as for kube-apiserver: scraping its
// /metrics every 2 s would load the server being measured. The pid is
// read each time, so that a restart shows as a new start time; without
// the pid file of hack/local-up.sh there is nothing to measure.
func (p *scaleProbes) execServer() (rss, cpu, started float64, err error) {
	pid, err := scaleComponentPID(p.stack, "execution-apiserver")
	if err != nil {
		return 0, 0, 0, err
	}
	if rss, err = scaleProcRSS(pid); err != nil {
		return 0, 0, 0, err
	}
	cpu, started, err = framework.ProcTimes(strconv.Itoa(pid))
	return rss, cpu, started, err
}

// kubeAPIServerRSS is kube-apiserver's VmRSS.
func (p *scaleProbes) kubeAPIServerRSS() (float64, error) {
	if p.pidError != nil {
		raw, err := p.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
		if err != nil {
			return 0, err
		}
		return framework.SumSeries(string(raw), "process_resident_memory_bytes", nil), nil
	}
	return scaleProcRSS(p.kubePID)
}

// scaleProcRSS is process pid's VmRSS in bytes.
func scaleProcRSS(pid int) (float64, error) { return scaleProcMemory(pid, "VmRSS") }

// scaleProcMemory is field (VmRSS, VmHWM: the peak RSS since the process
// started) of /proc/PID/status, in bytes.
func scaleProcMemory(pid int, field string) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// stored is the size of the Execution ns/name as etcd holds it, and its
// stored phase and message.
func (p *scaleProbes) stored(ns, name string) (size float64, phase v1alpha1.ExecutionPhase, message string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := path.Join(p.etcdKey, ns, name)
	r, err := p.etcd.Get(ctx, key)
	if err != nil {
		return 0, "", "", err
	}
	if len(r.Kvs) != 1 {
		return 0, "", "", fmt.Errorf("no key %s", key)
	}
	var obj struct {
		Status struct {
			Phase   v1alpha1.ExecutionPhase `json:"phase"`
			Message string                  `json:"message"`
		} `json:"status"`
	}
	if err := json.Unmarshal(r.Kvs[0].Value, &obj); err != nil {
		return 0, "", "", fmt.Errorf("stored %s: %w", key, err)
	}
	return float64(len(r.Kvs[0].Value)), obj.Status.Phase, obj.Status.Message, nil
}

// idleExecRSS is the least of three samples of the execution-apiserver's
// RSS, one second apart.
func (p *scaleProbes) idleExecRSS(b *testing.B) float64 {
	idle := math.Inf(1)
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		rss, _, _, err := p.execServer()
		if err != nil {
			b.Fatalf("execution-apiserver RSS: %v", err)
		}
		idle = min(idle, rss)
	}
	return idle
}

// scaleSampler samples the probes every 2 s until stopped.
type scaleSampler struct {
	execRSS, execCPU, kubeRSS, stored scaleSeries
	stopCh, done                      chan struct{}
	// execStarts are the execution-apiserver's start times seen: more
	// than one if it was restarted during the variant.
	execStarts map[float64]bool
	// phase and message are the Execution's, as last read from etcd: the
	// benchmark watches for a Failed Execution there, not with GETs, which
	// would render its status.vertices on the server.
	mu      sync.Mutex
	phase   v1alpha1.ExecutionPhase
	message string
}

func (s *scaleSampler) storedPhase() (v1alpha1.ExecutionPhase, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase, s.message
}

func (p *scaleProbes) sample(storedNS string) *scaleSampler {
	s := &scaleSampler{stopCh: make(chan struct{}), done: make(chan struct{}), execStarts: map[float64]bool{}}
	once := func() {
		rss, cpu, started, err := p.execServer()
		s.execRSS.add(rss, err)
		s.execCPU.add(cpu, err)
		if err == nil {
			s.execStarts[started] = true
		}
		s.kubeRSS.add(p.kubeAPIServerRSS())
		if storedNS != "" {
			size, phase, message, err := p.stored(storedNS, scaleName)
			s.stored.add(size, err)
			if err == nil {
				s.mu.Lock()
				s.phase, s.message = phase, message
				s.mu.Unlock()
			}
		}
	}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(scaleSampleGap)
		defer tick.Stop()
		for {
			once()
			select {
			case <-tick.C:
			case <-s.stopCh:
				once()
				return
			}
		}
	}()
	return s
}

// stop ends the sampling (after one last sample); safe to call twice.
func (s *scaleSampler) stop() {
	select {
	case <-s.stopCh:
	default:
		close(s.stopCh)
	}
	<-s.done
}

// scaleResult is one variant's measurements.
type scaleResult struct {
	variant          scaleVariant
	name             string
	namespace        string // deleted by the caller, once the results are out
	jobs             int
	wall, firstK     time.Duration
	fanIn            time.Duration // last align completion → merge completion
	allAdded         time.Duration // first create → the informer saw every align Job
	windowAdded      time.Duration // first create → the informer saw p.window Jobs
	succeeded        time.Duration // Execution only: create → Succeeded seen
	createCall       time.Duration // Execution only: the create call
	maxOpen          int
	meanOpen         float64
	runMean          time.Duration // Job seen → Job complete
	runP50, runP90   time.Duration
	cpu              scaleCPU
	idleExecRSS      float64
	execRSS, kubeRSS scaleSeries
	stored           scaleSeries
	execCPU          float64
	// cachedJobs: Execution only, the Jobs the controller keeps in its
	// cache once the Execution succeeded (its stored successes are not).
	cachedJobs          float64
	hasCachedJobs       bool
	deleteNS            time.Duration
	samples, sampleErrs int
	// execRestarted: the execution-apiserver restarted during the variant
	// (someone else's doing); its numbers do not count.
	execRestarted bool
	// restart: Execution only, with KUBEGENE_SCALE_RESTART=1.
	restart *scaleRestart
	// background is the cluster's background work over the variant.
	background scaleBackground
}

// scaleRestart is what a restart of the execution-apiserver costs once the
// Execution succeeded, over its N+1 finished Jobs, all kept in the cluster
// (jobCleanup Never) and all stored as succeeded.
type scaleRestart struct {
	// synced: the restart's start → the new controller's Job informer
	// left out (kubegene_controller_jobs_left_out_total) every one of the
	// Execution's Jobs as it listed them.
	synced time.Duration
	// peakRSS is the new process's VmHWM, rss its VmRSS, cpu its CPU
	// seconds, read 10 s after synced.
	peakRSS, rss, cpu float64
	// leftOut and cached are the left-out counter and
	// kubegene_controller_cached_jobs then.
	leftOut, cached float64
}

// scaleRestartExecServer restarts the execution-apiserver after the
// Execution of p succeeded and measures it (scaleRestart).
func scaleRestartExecServer(b *testing.B, f *framework.Framework, p scaleParams) *scaleRestart {
	start := time.Now()
	f.Stack.Restart(b, "execution-apiserver")
	const leftOut = "kubegene_controller_jobs_left_out_total"
	framework.WaitFor(b, 10*time.Minute, 250*time.Millisecond, "the restarted controller to leave out the Execution's finished Jobs", func() (bool, string) {
		m, err := f.Stack.ExecutionServerMetrics()
		if err != nil {
			return false, err.Error()
		}
		n := framework.SumSeries(m, leftOut, nil)
		return n >= float64(p.jobs+1), fmt.Sprintf("%v left out", n)
	})
	r := &scaleRestart{synced: time.Since(start)}
	time.Sleep(10 * time.Second) // the syncs that follow
	m := ctlServerMetrics(b, f.Stack)
	r.leftOut, r.cached = framework.SumSeries(m, leftOut, nil), framework.SumSeries(m, "kubegene_controller_cached_jobs", nil)
	pid, err := scaleComponentPID(f.Stack, "execution-apiserver")
	if err != nil {
		b.Fatal(err)
	}
	var errPeak, errRSS, errCPU error
	r.peakRSS, errPeak = scaleProcMemory(pid, "VmHWM")
	r.rss, errRSS = scaleProcRSS(pid)
	r.cpu, _, errCPU = framework.ProcTimes(strconv.Itoa(pid))
	if err := errors.Join(errPeak, errRSS, errCPU); err != nil {
		b.Fatalf("execution-apiserver after its restart: %v", err)
	}
	return r
}

func (r *scaleResult) rate() float64 { return float64(r.jobs) / r.wall.Seconds() }

// clusterCPUPerJob is the cluster's CPU per completed Job in seconds, NaN
// when the components' CPU was not read.
func (r *scaleResult) clusterCPUPerJob() float64 {
	if len(r.cpu.byComponent) == 0 || r.jobs == 0 {
		return math.NaN()
	}
	return r.cpu.cluster() / float64(r.jobs)
}

// finish fills r from the tracker and the sampler once every Job completed.
func (r *scaleResult) finish(p scaleParams, tr *scaleTracker, s *scaleSampler, start time.Time) {
	tr.mu.Lock()
	r.jobs = len(tr.completions)
	r.wall = tr.completions[len(tr.completions)-1].Sub(start)
	r.firstK = tr.completions[p.first-1].Sub(start)
	// merge is created once every align Job has completed: it is last.
	r.fanIn = tr.completions[len(tr.completions)-1].Sub(tr.completions[len(tr.completions)-2])
	r.allAdded = tr.allAdded.Sub(start)
	r.windowAdded = tr.windowAdded.Sub(start)
	r.maxOpen = tr.maxOpen
	if d := tr.openChanged.Sub(tr.firstSeen).Seconds(); d > 0 {
		r.meanOpen = tr.openSeconds / d
	}
	runs := slices.Clone(tr.runTimes)
	slices.Sort(runs)
	r.runP50, r.runP90 = runs[len(runs)/2], runs[len(runs)*9/10]
	var sum time.Duration
	for _, d := range runs {
		sum += d
	}
	r.runMean = sum / time.Duration(len(runs))
	tr.mu.Unlock()
	r.execRSS, r.kubeRSS, r.stored = s.execRSS, s.kubeRSS, s.stored
	r.execCPU = s.execCPU.last - s.execCPU.first
	r.samples = s.execRSS.n
	r.execRestarted = len(s.execStarts) > 1
	r.sampleErrs = s.execRSS.errs + s.kubeRSS.errs + s.stored.errs
}

// scaleNamespace creates a namespace for one variant and makes sure it is
// deleted, and waited for (unless KUBEGENE_SCALE_KEEP_NAMESPACES), at the
// end even when the variant fails.
func scaleNamespace(b *testing.B, f *framework.Framework, kube kubernetes.Interface, p scaleParams, prefix string) string {
	ns := f.CreateNamespace(prefix)
	// Runs before the framework's own cleanup (which finalizes a namespace
	// by hand after a minute, leaving its Jobs behind).
	b.Cleanup(func() {
		if p.keepNamespaces {
			return
		}
		if _, handled := scaleDeletionHandled.Load(ns); handled {
			return // scaleMustDelete deleted it, or gave up after its whole timeout
		}
		d, err := scaleDeleteNamespace(kube, ns, p.deleteTimeout())
		if err != nil {
			b.Errorf("cleanup: %v", err)
		} else if d > 0 {
			b.Logf("cleanup: namespace %s deleted in %s", ns, d.Round(time.Second))
		}
	})
	return ns
}

func (p scaleParams) deleteTimeout() time.Duration {
	return 5*time.Minute + time.Duration(p.jobs)*30*time.Millisecond
}

// scaleDeleteNamespace deletes ns and waits until it is gone: the namespace
// controller removes it once its Jobs and pods are gone.
func scaleDeleteNamespace(kube kubernetes.Interface, ns string, timeout time.Duration) (time.Duration, error) {
	ctx := context.Background()
	start := time.Now()
	err := kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("deleting namespace %s: %w", ns, err)
	}
	// ContentDeletionFailed comes and goes while kube-apiserver is slow to
	// delete thousands of Jobs at once (its deletecollection times out);
	// the namespace controller retries. Only the timeout decides, and the
	// last such failure is said with it.
	lastFailure := ""
	for {
		got, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if err == nil {
			if c := framework.NamespaceCondition(got, corev1.NamespaceDeletionContentFailure); c != nil && c.Status == corev1.ConditionTrue {
				lastFailure = fmt.Sprintf("; last %s: %s", c.Reason, c.Message)
			}
		}
		if time.Since(start) > timeout {
			jobs, err1 := kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{Limit: 1})
			pods, err2 := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
			left := "?"
			if err1 == nil && err2 == nil {
				left = fmt.Sprintf("jobs %s, pods %s", scaleCount(jobs.Items, &jobs.ListMeta), scaleCount(pods.Items, &pods.ListMeta))
			}
			return 0, fmt.Errorf("namespace %s not gone after %s (left: %s%s)", ns, timeout, left, lastFailure)
		}
		time.Sleep(2 * time.Second)
	}
	// Gone: nothing may be left in it.
	jobs, err := kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err == nil && len(jobs.Items) > 0 {
		return 0, fmt.Errorf("namespace %s gone but Jobs are left (%s)", ns, scaleCount(jobs.Items, &jobs.ListMeta))
	}
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err == nil && len(pods.Items) > 0 {
		return 0, fmt.Errorf("namespace %s gone but pods are left (%s)", ns, scaleCount(pods.Items, &pods.ListMeta))
	}
	return time.Since(start), nil
}

// scaleCount is how many items a list with limit 1 says there are.
func scaleCount[T any](items []T, meta *metav1.ListMeta) string {
	n := int64(len(items))
	if c := meta.RemainingItemCount; c != nil {
		n += *c
	}
	return fmt.Sprintf("≈%d", n)
}

// scaleClusterLoad logs the Jobs and pods in the whole cluster before a
// variant: another run on the same stack would skew it.
func scaleClusterLoad(b *testing.B, kube kubernetes.Interface) {
	ctx := context.Background()
	jobs, err1 := kube.BatchV1().Jobs("").List(ctx, metav1.ListOptions{Limit: 1})
	pods, err2 := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
	if err1 != nil || err2 != nil {
		b.Logf("cluster load: %v %v", err1, err2)
		return
	}
	if len(jobs.Items) > 0 || len(pods.Items) > 0 {
		b.Logf("WARNING: the cluster is not empty before this variant: jobs %s, pods %s", scaleCount(jobs.Items, &jobs.ListMeta), scaleCount(pods.Items, &pods.ListMeta))
	}
}

func scaleRunExecution(b *testing.B, f *framework.Framework, kube kubernetes.Interface, exe versioned.Interface, probes *scaleProbes, p scaleParams) scaleResult {
	r := scaleResult{variant: scaleExec, name: scaleExec.name(p.window)}
	scaleClusterLoad(b, kube)
	ns := scaleNamespace(b, f, kube, p, "e2e-scale-exec")
	tr := scaleTrack(b, kube, ns, p)
	defer tr.stop()
	client := exe.ExecutionV1alpha1().Executions(ns)
	ctx := context.Background()
	r.idleExecRSS = probes.idleExecRSS(b)

	e := p.execution()
	// /metrics first: kube-apiserver's is megabytes, and reading it must
	// not count in the variant's CPU.
	background0 := scaleReadBackground(f.Stack, kube)
	cpu0 := scaleReadCPU(f.Stack, probes.cluster)
	start := time.Now()
	if _, err := client.Create(ctx, e, metav1.CreateOptions{}); err != nil {
		b.Fatalf("creating the execution: %v", err)
	}
	r.createCall = time.Since(start)
	sampler := probes.sample(ns)
	defer sampler.stop()
	phase := func() (v1alpha1.ExecutionPhase, string, error) {
		got, err := client.Get(ctx, e.Name, metav1.GetOptions{})
		if err != nil {
			return "", "", err
		}
		return got.Status.Phase, got.Status.Message, nil
	}
	notFailed := func() error {
		if ph, msg := sampler.storedPhase(); ph == v1alpha1.PhaseFailed {
			return fmt.Errorf("execution failed: %s", msg)
		}
		return nil
	}
	tr.waitCompleted(b, "execution", p.jobs+1, start, start.Add(p.timeout), notFailed)
	framework.WaitFor(b, 2*time.Minute, 100*time.Millisecond, "execution "+ns+"/"+e.Name+" Succeeded", func() (bool, string) {
		ph, msg, err := phase()
		if err != nil {
			return false, err.Error()
		}
		if ph == v1alpha1.PhaseFailed {
			b.Fatalf("execution failed: %s", msg)
		}
		return ph == v1alpha1.PhaseSucceeded, string(ph) + " " + msg
	})
	r.succeeded = time.Since(start)
	r.cpu = scaleReadCPU(f.Stack, probes.cluster).since(cpu0)
	r.background = scaleReadBackground(f.Stack, kube).since(background0)
	sampler.stop()
	r.cachedJobs = framework.SumSeries(ctlServerMetrics(b, f.Stack), "kubegene_controller_cached_jobs", nil)
	r.hasCachedJobs = true
	r.finish(p, tr, sampler, start)
	if r.execRestarted {
		b.Fatalf("the execution-apiserver was restarted during the Execution's run (process start times %v): its numbers do not count; run again",
			slices.Sorted(maps.Keys(sampler.execStarts)))
	}

	// The plain variants run the same commands: check one the controller made.
	last := p.jobs - 1
	job, err := kube.BatchV1().Jobs(ns).Get(ctx, scaleJobName("align", last), metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if got := job.Spec.Template.Spec.Containers[0]; got.Image != scaleImage || !slices.Equal(got.Command, []string{"sh", "-c", p.command(last)}) {
		b.Fatalf("job %s runs %s %q; the plain variants would run %s %q", job.Name, got.Image, got.Command, scaleImage, p.command(last))
	}
	scaleSameDress(b, job, "align", last)
	if r.jobs != p.jobs+1 {
		b.Fatalf("execution: %d Jobs completed, want %d", r.jobs, p.jobs+1)
	}
	if p.restart {
		r.restart = scaleRestartExecServer(b, f, p)
	}
	r.namespace = ns
	return r
}

// scaleDeletionHandled holds the namespaces scaleMustDelete deleted or
// gave up on: their cleanup does not wait for them again.
var scaleDeletionHandled sync.Map

func scaleMustDelete(b *testing.B, kube kubernetes.Interface, ns string, p scaleParams) time.Duration {
	if p.keepNamespaces {
		err := kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			b.Fatalf("deleting namespace %s: %v", ns, err)
		}
		b.Logf("namespace %s: deleted, not waited for (KUBEGENE_SCALE_KEEP_NAMESPACES=1); hack/local-up.sh down --clean drops what is left with the stack's data", ns)
		return 0
	}
	d, err := scaleDeleteNamespace(kube, ns, p.deleteTimeout())
	scaleDeletionHandled.Store(ns, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("namespace %s deleted in %s", ns, d.Round(time.Second))
	return d
}

// scaleCreate creates jobs with p.clients goroutines, each waiting for
// acquire (when set) before its create. It returns the first error.
func scaleCreate(ctx context.Context, client batchclient.JobInterface, jobs []*batchv1.Job, clients int, acquire func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				var err error
				if acquire != nil {
					err = acquire(ctx)
				}
				if err == nil {
					_, err = client.Create(ctx, jobs[i], metav1.CreateOptions{})
					if err != nil {
						err = fmt.Errorf("creating job %s: %w", jobs[i].Name, err)
					}
				}
				if err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// scaleFeeder is the plain client's own watch of the Jobs it created: it
// frees a window slot when a Job finishes and tells when every align Job
// has. A client that feeds a cluster must watch what it created, as the
// controller does; the tracker only measures, so that every variant pays
// for one watch of its Jobs besides the measurement's.
type scaleFeeder struct {
	// allFinished is closed once the Jobs wanted have finished.
	allFinished chan struct{}
	stop        context.CancelFunc
}

// scaleFeed watches ns's Jobs with the feeding client; release, if not nil,
// is called once per Job that completed or failed.
func scaleFeed(b *testing.B, feed kubernetes.Interface, ns string, want int, release func()) *scaleFeeder {
	fd := &scaleFeeder{allFinished: make(chan struct{})}
	finished := ctlFinishes{}
	fd.stop = ctlWatchJobs(b, feed, ns, func(job *batchv1.Job) {
		if first, _ := finished.first(job); !first {
			return
		}
		if len(finished) == want {
			close(fd.allFinished)
		}
		if release != nil {
			release()
		}
	})
	return fd
}

// scaleFeedingClient is the client the plain variants create their Jobs
// with and watch them with (scaleFeed): the limits of ctlBenchClients and
// the transport of the controller's Job client, so that the variants differ
// in how they feed the cluster, not in how they talk to it. Completions are
// measured with the benchmark's own client in every variant alike.
func scaleFeedingClient(b testing.TB, s *framework.Stack) kubernetes.Interface {
	cfg := ctlBenchConfig(b, s)
	server.UseControllerTransport(cfg)
	return kubernetes.NewForConfigOrDie(cfg)
}

// scaleRunPlain creates the N align Jobs with one client, feed — all at
// once (variant all) or keeping at most p.window created and unfinished
// (window, dressed) — and, once they have all completed, the merge Job.
func scaleRunPlain(b *testing.B, f *framework.Framework, kube, feed kubernetes.Interface, probes *scaleProbes, p scaleParams, v scaleVariant) scaleResult {
	r := scaleResult{variant: v, name: v.name(p.window)}
	prefix := "e2e-scale-" + scaleVariantKeys[v]
	var acquire func(context.Context) error
	var release func()
	if v != scaleAll {
		sem := make(chan struct{}, p.window)
		acquire = func(ctx context.Context) error {
			select {
			case sem <- struct{}{}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		release = func() {
			select {
			case <-sem:
			default:
			}
		}
	}
	scaleClusterLoad(b, kube)
	ns := scaleNamespace(b, f, kube, p, prefix)
	tr := scaleTrack(b, kube, ns, p)
	defer tr.stop()
	feeder := scaleFeed(b, feed, ns, p.jobs, release)
	defer feeder.stop()
	jobs := feed.BatchV1().Jobs(ns)
	dress := func(*batchv1.Job, string, int) {}
	if v == scaleDressed {
		dress = scaleDresser(b, feed, ns)
	}
	align := make([]*batchv1.Job, p.jobs)
	for i := range align {
		align[i] = ctlNaiveJob(scaleJobName("align", i), scaleImage, p.command(i))
		dress(align[i], "align", i)
	}
	r.idleExecRSS = probes.idleExecRSS(b)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	created := make(chan error, 1)
	// /metrics first: kube-apiserver's is megabytes, and reading it must
	// not count in the variant's CPU.
	background0 := scaleReadBackground(f.Stack, kube)
	cpu0 := scaleReadCPU(f.Stack, probes.cluster)
	start := time.Now()
	sampler := probes.sample("")
	defer sampler.stop()
	go func() { created <- scaleCreate(ctx, jobs, align, p.clients, acquire) }()
	var createErr error
	createsDone := false
	checkCreates := func() error {
		if !createsDone {
			select {
			case createErr = <-created:
				createsDone = true
			default:
			}
		}
		return createErr
	}
	tr.waitCompleted(b, r.name, p.jobs, start, start.Add(p.timeout), checkCreates)
	// Every align Job completed, so every create returned.
	if !createsDone {
		createErr = <-created
	}
	if createErr != nil {
		b.Fatal(createErr)
	}
	// The client creates merge once its own watch has seen every align
	// Job finish, as the controller does from its own.
	select {
	case <-feeder.allFinished:
	case <-time.After(time.Until(start.Add(p.timeout))):
		b.Fatalf("%s: the feeding client's watch did not see every align Job finish within %s", r.name, p.timeout)
	}
	merge := ctlNaiveJob(scaleJobName("merge", 0), scaleImage, scaleMergeCmd)
	dress(merge, "merge", 0)
	if _, err := jobs.Create(ctx, merge, metav1.CreateOptions{}); err != nil {
		b.Fatalf("creating the merge job: %v", err)
	}
	tr.waitCompleted(b, r.name, p.jobs+1, start, start.Add(p.timeout), nil)
	r.cpu = scaleReadCPU(f.Stack, probes.cluster).since(cpu0)
	r.background = scaleReadBackground(f.Stack, kube).since(background0)
	sampler.stop()
	r.finish(p, tr, sampler, start)
	if r.execRestarted {
		b.Logf("WARNING: the execution-apiserver was restarted during %q: its RSS and CPU there do not count", r.name)
	}
	r.namespace = ns
	return r
}

// scaleDresser returns a function that dresses plain Jobs in ns
// (scaleDressJob) with the feeding client's user as creator and, as owner,
// a ConfigMap created here: the garbage collector deletes a Job whose owner
// does not exist, and an Execution would have the controller follow the
// Jobs. The owner's apiVersion and kind are 28 bytes shorter than an
// Execution's.
func scaleDresser(b *testing.B, feed kubernetes.Interface, ns string) func(job *batchv1.Job, task string, index int) {
	ctx := context.Background()
	cm, err := feed.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: scaleName}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatalf("creating the dressed Jobs' owner: %v", err)
	}
	review, err := feed.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		b.Fatalf("asking the API who the feeding client is: %v", err)
	}
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID}
	return func(job *batchv1.Job, task string, index int) {
		scaleDressJob(job, task, index, owner, review.Status.UserInfo.Username)
	}
}

// scaleDressGroup stands for the API's group (v1alpha1.GroupName) in the
// dressed Jobs' label and annotation keys: as long, so that the bytes are
// the same, but other, so that the controller, which watches the Jobs that
// carry its labels, does not watch these too.
const scaleDressGroup = "benchmark.kubegene.io"

// scaleDressKey is key, one of the API's, with its group replaced by
// scaleDressGroup.
func scaleDressKey(key string) string {
	name, ok := strings.CutPrefix(key, v1alpha1.GroupName+"/")
	if !ok {
		panic(fmt.Sprintf("scaleDressKey(%q): not a key in group %s", key, v1alpha1.GroupName))
	}
	return scaleDressGroup + "/" + name
}

// scaleDressJob gives a plain Job the metadata the controller puts on the
// Jobs of an Execution named scaleName (pkg/controller newJob), its keys
// in scaleDressGroup: its four labels on the Job and in the pod template,
// the creator annotation, and owner as controller, blocking its deletion.
func scaleDressJob(job *batchv1.Job, task string, index int, owner metav1.OwnerReference, creator string) {
	labels := map[string]string{
		scaleDressKey(v1alpha1.LabelExecution): scaleName,
		scaleDressKey(v1alpha1.LabelTask):      task,
		scaleDressKey(v1alpha1.LabelIndex):     strconv.Itoa(index),
		scaleDressKey(v1alpha1.LabelAttempt):   "1",
	}
	job.Labels = labels
	job.Spec.Template.Labels = maps.Clone(labels)
	job.Annotations = map[string]string{scaleDressKey(v1alpha1.CreatedByAnnotation): creator}
	owner.Controller, owner.BlockOwnerDeletion = ptr.To(true), ptr.To(true)
	job.OwnerReferences = []metav1.OwnerReference{owner}
}

// scaleSameDress fails the benchmark unless the controller's Job carries
// what scaleDressJob gives the dressed variant's, but for the group in the
// keys: the same labels on the Job and in its pod template (of the pod
// template's, those in the API's group: kube-apiserver's Job strategy adds
// its own), the same annotation keys (the creator differs with the client),
// one controller ownerReference that blocks its owner's deletion.
func scaleSameDress(b *testing.B, ctlJob *batchv1.Job, task string, index int) {
	dressed := ctlNaiveJob(ctlJob.Name, scaleImage, "")
	scaleDressJob(dressed, task, index, metav1.OwnerReference{}, "")
	ours := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			if strings.HasPrefix(k, v1alpha1.GroupName+"/") {
				out[scaleDressKey(k)] = v
			}
		}
		return out
	}
	annotationKeys := func(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
	owners := ctlJob.OwnerReferences
	if len(ours(ctlJob.Labels)) != len(ctlJob.Labels) ||
		!maps.Equal(ours(ctlJob.Labels), dressed.Labels) ||
		!maps.Equal(ours(ctlJob.Spec.Template.Labels), dressed.Spec.Template.Labels) ||
		!slices.Equal(annotationKeys(ours(ctlJob.Annotations)), annotationKeys(dressed.Annotations)) ||
		len(owners) != 1 || !ptr.Deref(owners[0].Controller, false) || !ptr.Deref(owners[0].BlockOwnerDeletion, false) {
		b.Fatalf("the controller's Job %s has labels %v, pod labels %v, annotations %v, owners %v; the dressed variant's would have, in group %s, labels %v, annotation keys %v and one controller owner: scaleDressJob must follow pkg/controller newJob",
			ctlJob.Name, ctlJob.Labels, ctlJob.Spec.Template.Labels, ctlJob.Annotations, owners,
			scaleDressGroup, dressed.Labels, annotationKeys(dressed.Annotations))
	}
}

func BenchmarkScaleExecutionVsJobs(b *testing.B) {
	f := framework.New(b)
	p := scaleParamsFromEnv(b)
	kube, exe := ctlBenchClients(b, f.Stack)
	feed := scaleFeedingClient(b, f.Stack)
	probes := scaleNewProbes(b, f.Stack, kube)
	scaleReleaseCluster(b, p.clusterCPUs > 0)
	if p.clusterCPUs > 0 {
		probes.cluster = scaleConfineCluster(b, f.Stack, p.clusterCPUs)
	}
	b.Logf("%d align jobs (commandsIter %d samples × %d chunks) + 1 merge job per variant; window %d; %d creating goroutines; client QPS 100 burst 200, protobuf, uncompressed; timeout %s per variant",
		p.jobs, len(p.samples), len(p.chunks), p.window, p.clients, p.timeout)

	// Which execution-apiserver is measured: the stack's, whatever binary it runs.
	server := "execution-apiserver: ?"
	if _, _, started, err := probes.execServer(); err == nil {
		server = fmt.Sprintf("execution-apiserver running since %s", time.Unix(int64(started), 0).Format("2006-01-02 15:04:05"))
	}
	if fi, err := os.Stat(filepath.Join(f.Stack.BinDir, "execution-apiserver")); err == nil {
		server += fmt.Sprintf(", %s built %s", filepath.Join(f.Stack.BinDir, "execution-apiserver"), fi.ModTime().Format("2006-01-02 15:04:05"))
	}
	b.Log(server)

	var sumWallRatio, sumFirstRatio float64
	var last []scaleResult
	var cmp scaleComparison
	for n := 0; n < b.N; n++ {
		var rs []scaleResult
		for _, v := range p.variants {
			var r scaleResult
			switch v {
			case scaleExec:
				r = scaleRunExecution(b, f, kube, exe, probes, p)
			default:
				r = scaleRunPlain(b, f, kube, feed, probes, p, v)
			}
			rs = append(rs, r)
			// Out before the namespace's deletion, which can fail the
			// benchmark on a stack this loaded: what was measured is not
			// lost with it.
			fmt.Printf("\nBenchmarkScaleExecutionVsJobs run %d of %d, measured so far (%s):\n%s", n+1, b.N, time.Now().Format("2006-01-02 15:04"),
				scaleTable(p, rs, nil))
			rs[len(rs)-1].deleteNS = scaleMustDelete(b, kube, r.namespace, p)
		}
		last = rs
		cmp = scaleCompare(last)
		sumWallRatio += cmp.wall
		sumFirstRatio += cmp.first
		// go test keeps only the first lines of a benchmark's log: the
		// table goes to stdout as well.
		table := scaleTable(p, last, &cmp)
		fmt.Printf("\nBenchmarkScaleExecutionVsJobs run %d of %d (%s; %s):\n%s", n+1, b.N, time.Now().Format("2006-01-02 15:04"), server, table)
		b.Logf("run %d of %d:\n%s", n+1, b.N, table)
	}
	runs := float64(b.N)
	if !math.IsNaN(sumWallRatio) {
		b.ReportMetric(sumWallRatio/runs, "exec/best-plain-wall")
	}
	if !math.IsNaN(sumFirstRatio) {
		b.ReportMetric(sumFirstRatio/runs, fmt.Sprintf("exec/window-first%d", p.first))
	}
	var execRSSDelta, restartRSSDelta, execIdle, kubePeak, kubePeakPlain, stored float64
	for v, m := range cmp.means {
		b.ReportMetric(m.wall.Seconds(), scaleVariantKeys[v]+"-wall-s")
	}
	for _, r := range last {
		switch r.variant {
		case scaleAll, scaleWindow:
			kubePeakPlain = max(kubePeakPlain, r.kubeRSS.peak)
			continue
		case scaleDressed:
			continue
		}
		execRSSDelta = max(execRSSDelta, r.execRSS.peak-r.idleExecRSS)
		if r.restart != nil {
			restartRSSDelta = max(restartRSSDelta, r.restart.peakRSS-r.idleExecRSS)
		}
		execIdle = max(execIdle, r.idleExecRSS)
		kubePeak = max(kubePeak, r.kubeRSS.peak)
		stored = max(stored, r.stored.peak)
	}
	// With a variant run more than once, the largest of its runs.
	if cmp.runs(scaleExec) > 0 {
		b.ReportMetric(execRSSDelta/mib, "exec-server-rss-delta-MiB")
		b.ReportMetric(execIdle/mib, "exec-server-idle-MiB")
		b.ReportMetric(kubePeak/mib, "kube-apiserver-peak-MiB")
		b.ReportMetric(stored/1024, "exec-stored-peak-KiB")
		if p.restart {
			b.ReportMetric(restartRSSDelta/mib, "exec-server-restart-rss-delta-MiB")
		}
	}
	if cmp.runs(scaleAll, scaleWindow) > 0 {
		b.ReportMetric(kubePeakPlain/mib, "kube-apiserver-peak-plain-MiB")
	}
}

// scaleMean is the mean of one variant's runs.
type scaleMean struct {
	runs         int
	wall, firstK time.Duration
	// clusterCPUPerJob is the cluster's CPU per completed Job, in seconds.
	clusterCPUPerJob float64
}

// scaleMeans are the mean wall and first-completions times, and cluster
// CPU per Job, of each variant
// that ran, by variant.
func scaleMeans(rs []scaleResult) map[scaleVariant]scaleMean {
	ms := map[scaleVariant]scaleMean{}
	for _, r := range rs {
		m := ms[r.variant]
		m.runs++
		m.wall += r.wall
		m.firstK += r.firstK
		m.clusterCPUPerJob += r.clusterCPUPerJob()
		ms[r.variant] = m
	}
	for v, m := range ms {
		m.wall /= time.Duration(m.runs)
		m.firstK /= time.Duration(m.runs)
		m.clusterCPUPerJob /= float64(m.runs)
		ms[v] = m
	}
	return ms
}

// scaleComparison is what the goals compare: each variant's mean over its
// runs, and the ratios of those means.
type scaleComparison struct {
	means map[scaleVariant]scaleMean
	// wall is the Execution's wall time against the better plain variant
	// that ran (all or window), first its first completions against the
	// window's; NaN where the variants they need did not run.
	wall, first float64
	// dressedWall and dressedCPU compare the Execution's wall time and
	// cluster CPU per Job with the dressed window's: how the Execution
	// feeds the cluster, its Jobs' metadata being the same. Diagnostics,
	// not goals; NaN where either did not run.
	dressedWall, dressedCPU float64
}

// runs is how many times the variants vs ran.
func (c scaleComparison) runs(vs ...scaleVariant) int {
	n := 0
	for _, v := range vs {
		n += c.means[v].runs
	}
	return n
}

// scaleCompare computes the goals' ratios. A variant that ran more than
// once counts with the mean of its runs: in window,exec,window the windows'
// mean stands where the Execution ran, which cancels an ageing of the stack
// that is linear in time.
func scaleCompare(rs []scaleResult) scaleComparison {
	c := scaleComparison{means: scaleMeans(rs), wall: math.NaN(), first: math.NaN(), dressedWall: math.NaN(), dressedCPU: math.NaN()}
	exec, ok := c.means[scaleExec]
	if !ok {
		return c
	}
	var best time.Duration
	for _, v := range []scaleVariant{scaleAll, scaleWindow} {
		if m, ok := c.means[v]; ok && (best == 0 || m.wall < best) {
			best = m.wall
		}
	}
	if best > 0 {
		c.wall = exec.wall.Seconds() / best.Seconds()
	}
	if window, ok := c.means[scaleWindow]; ok {
		c.first = exec.firstK.Seconds() / window.firstK.Seconds()
	}
	if dressed, ok := c.means[scaleDressed]; ok {
		c.dressedWall = exec.wall.Seconds() / dressed.wall.Seconds()
		c.dressedCPU = exec.clusterCPUPerJob / dressed.clusterCPUPerJob
	}
	return c
}

// scaleTable is the run's table, with the goals' verdicts under it when
// cmp is not nil (it is nil for the tables printed while a run goes on).
func scaleTable(p scaleParams, rs []scaleResult, cmp *scaleComparison) string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cell func(r scaleResult) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t", cell(r))
		}
		fmt.Fprintln(tw)
	}
	secs := func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }
	mb := func(v float64) string { return fmt.Sprintf("%.0f", v/mib) }
	fmt.Fprintf(tw, "%d+1 jobs\t", p.jobs)
	for i, r := range rs {
		fmt.Fprintf(tw, "%d. %s\t", i+1, r.name)
	}
	fmt.Fprintln(tw)
	row("jobs completed", func(r scaleResult) string { return strconv.Itoa(r.jobs) })
	row("first create → last completion (s)", func(r scaleResult) string { return secs(r.wall) })
	row(fmt.Sprintf("first create → %dth completion (s)", p.first), func(r scaleResult) string { return secs(r.firstK) })
	row("last align → merge completion (s)", func(r scaleResult) string { return secs(r.fanIn) })
	row("completions/s", func(r scaleResult) string { return fmt.Sprintf("%.1f", r.rate()) })
	row(fmt.Sprintf("first create → %dth Job seen (s)", min(p.window, p.jobs)), func(r scaleResult) string { return secs(r.windowAdded) })
	row("first create → all align Jobs seen (s)", func(r scaleResult) string { return secs(r.allAdded) })
	row("Jobs created, unfinished: mean / most", func(r scaleResult) string { return fmt.Sprintf("%.1f / %d", r.meanOpen, r.maxOpen) })
	row("Job seen → complete mean / p50 / p90 (s)", func(r scaleResult) string {
		return secs(r.runMean) + " / " + secs(r.runP50) + " / " + secs(r.runP90)
	})
	row("create → Succeeded seen (s); create call (ms)", func(r scaleResult) string {
		if r.succeeded == 0 {
			return "–"
		}
		return fmt.Sprintf("%s; %d", secs(r.succeeded), r.createCall.Milliseconds())
	})
	row("execution-apiserver RSS idle / peak (MiB)", func(r scaleResult) string {
		return mb(r.idleExecRSS) + " / " + mb(r.execRSS.peak)
	})
	row("execution-apiserver RSS peak − idle (MiB)", func(r scaleResult) string { return mb(r.execRSS.peak - r.idleExecRSS) })
	row("execution-apiserver CPU (s)", func(r scaleResult) string { return fmt.Sprintf("%.1f", r.execCPU) })
	row("Jobs in the controller's cache at the end", func(r scaleResult) string {
		if !r.hasCachedJobs {
			return "–"
		}
		return fmt.Sprintf("%.0f", r.cachedJobs)
	})
	if p.restart {
		restart := func(cell func(*scaleRestart) string) func(r scaleResult) string {
			return func(r scaleResult) string {
				if r.restart == nil {
					return "–"
				}
				return cell(r.restart)
			}
		}
		row("restart: Jobs left out / cached then", restart(func(rs *scaleRestart) string {
			return fmt.Sprintf("%.0f / %.0f", rs.leftOut, rs.cached)
		}))
		row("restart: all left out (s); CPU 10 s later (s)", restart(func(rs *scaleRestart) string {
			return fmt.Sprintf("%s; %.1f", secs(rs.synced), rs.cpu)
		}))
		row("restart: RSS peak − idle / then (MiB)", func(r scaleResult) string {
			if r.restart == nil {
				return "–"
			}
			return mb(r.restart.peakRSS-r.idleExecRSS) + " / " + mb(r.restart.rss)
		})
	}
	row("kube-apiserver RSS start / peak (MiB)", func(r scaleResult) string { return mb(r.kubeRSS.first) + " / " + mb(r.kubeRSS.peak) })
	row("stored Execution peak / last (bytes)", func(r scaleResult) string {
		if r.stored.n == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f / %.0f", r.stored.peak, r.stored.last)
	})
	row("CPU (s): stack / this test / other", func(r scaleResult) string {
		return fmt.Sprintf("%.1f / %.1f / %.1f", r.cpu.stack, r.cpu.self, r.cpu.other())
	})
	row("CPU (s): "+strings.Join(framework.Components, " / "), func(r scaleResult) string {
		if len(r.cpu.byComponent) == 0 {
			return "–"
		}
		var parts []string
		for _, v := range r.cpu.byComponent {
			if math.IsNaN(v) {
				parts = append(parts, "–")
			} else {
				parts = append(parts, fmt.Sprintf("%.1f", v))
			}
		}
		return strings.Join(parts, " / ")
	})
	if p.clusterCPUs > 0 {
		row(fmt.Sprintf("cluster, confined to %.2f CPUs: CPU / throttled (s)", p.clusterCPUs), func(r scaleResult) string {
			return fmt.Sprintf("%.1f / %.1f", r.cpu.cluster(), r.cpu.throttled)
		})
	}
	row("cluster CPU per Job completed (ms)", func(r scaleResult) string { return orDash("%.1f", 1000*r.clusterCPUPerJob()) })
	row("kube-apiserver GC: CPU (s) / cycles", func(r scaleResult) string {
		return orDash("%.1f", r.background.kubeGCCPU) + " / " + orDash("%.0f", r.background.kubeGCs)
	})
	row("etcd: compactions (ms) / db at the end (MiB)", func(r scaleResult) string {
		return orDash("%.0f", r.background.compactions) + " (" + orDash("%.0f", r.background.compactionMS) + ") / " + orDash("%.0f", r.background.etcdDB/mib)
	})
	row("samples (failed)", func(r scaleResult) string { return fmt.Sprintf("%d (%d)", r.samples, r.sampleErrs) })
	row("namespace deletion (s)", func(r scaleResult) string {
		switch {
		case p.keepNamespaces:
			return "not waited for"
		case r.deleteNS == 0:
			return "not yet"
		}
		return secs(r.deleteNS)
	})
	tw.Flush()
	if cmp != nil {
		scaleVerdicts(&sb, p, *cmp)
	}
	for _, r := range rs {
		if r.execRestarted {
			fmt.Fprintf(&sb, "WARNING: %s: the execution-apiserver was restarted during it: its RSS and CPU do not count\n", r.name)
		}
		if o := r.cpu.other(); o > 5 && o > 0.05*r.cpu.machine {
			fmt.Fprintf(&sb, "WARNING: %s: %.0f CPU-s (%.0f%% of the machine's busy time) went to processes outside the stack and this test: its times are skewed\n",
				r.name, o, 100*o/r.cpu.machine)
		}
		if r.cpu.err != nil {
			fmt.Fprintf(&sb, "%s: reading CPU times: %v\n", r.name, r.cpu.err)
		}
		if r.background.err != nil {
			fmt.Fprintf(&sb, "%s: reading kube-apiserver's and etcd's /metrics: %v\n", r.name, r.background.err)
		}
		if r.sampleErrs > 0 {
			fmt.Fprintf(&sb, "%s: sampling errors, first: %v %v %v\n", r.name, r.execRSS.err, r.kubeRSS.err, r.stored.err)
		}
	}
	return sb.String()
}

// orDash formats v, or is "–" for a value not measured (NaN).
func orDash(format string, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

// scaleVerdicts writes the goals' ratios and whether they are met.
func scaleVerdicts(sb *strings.Builder, p scaleParams, cmp scaleComparison) {
	verdict := func(ratio float64) string {
		if ratio <= 1 {
			return fmt.Sprintf("%.3f (goal ≤ 1.00: met)", ratio)
		}
		return fmt.Sprintf("%.3f (goal ≤ 1.00: NOT met)", ratio)
	}
	// of says which runs a ratio compares when a variant ran more than
	// once, or that a plain variant did not run.
	of := func(vs ...scaleVariant) string {
		var parts []string
		repeated := false
		for _, v := range vs {
			if m, ok := cmp.means[v]; ok {
				parts = append(parts, fmt.Sprintf("%d × %s", m.runs, v.name(p.window)))
				repeated = repeated || m.runs > 1
			}
		}
		switch {
		case repeated:
			return " (means of " + strings.Join(parts, ", ") + ")"
		case len(vs) == 3 && len(parts) < 3:
			return " (of the plain variants that ran)"
		}
		return ""
	}
	if math.IsNaN(cmp.wall) {
		fmt.Fprintf(sb, "exec wall / best plain wall: not measured (needs the Execution and a plain variant)\n")
	} else {
		fmt.Fprintf(sb, "exec wall / best plain wall%s: %s\n", of(scaleExec, scaleAll, scaleWindow), verdict(cmp.wall))
	}
	if !math.IsNaN(cmp.dressedWall) {
		fmt.Fprintf(sb, "exec / dressed window%s (no goal): wall %.3f, cluster CPU per Job %s\n", of(scaleExec, scaleDressed), cmp.dressedWall, orDash("%.3f", cmp.dressedCPU))
	}
	var perJob []string
	for v := range scaleVariantKeys {
		if m, ok := cmp.means[scaleVariant(v)]; ok {
			perJob = append(perJob, scaleVariant(v).name(p.window)+" "+orDash("%.1f", 1000*m.clusterCPUPerJob))
		}
	}
	fmt.Fprintf(sb, "cluster CPU per Job completed, means (ms): %s\n", strings.Join(perJob, ", "))
	if math.IsNaN(cmp.first) {
		fmt.Fprintf(sb, "exec / window time to %d completions: not measured (needs the Execution and the window)\n", p.first)
	} else {
		fmt.Fprintf(sb, "exec / window time to %d completions%s: %s\n", p.first, of(scaleExec, scaleWindow), verdict(cmp.first))
	}
}

// scaleCPU is CPU time over a variant, in seconds: the machine's (busy
// time of /proc/stat), the stack's processes' and this test process' (from
// /proc/PID/stat); what is left is someone else's, which skews the run.
// throttled is the time the cluster's quota held it back, if it has one
// (summed over the CPUs).
type scaleCPU struct {
	machine, stack, self, throttled float64
	// byComponent is the stack's, by framework.Components' index.
	byComponent []float64
	err         error
}

func (c scaleCPU) other() float64 { return c.machine - c.stack - c.self }

// cluster is the stack's CPU but the execution-apiserver's: the
// framework.ClusterComponents', which come first in framework.Components.
func (c scaleCPU) cluster() float64 {
	sum := 0.0
	for _, v := range c.byComponent[:min(len(c.byComponent), len(framework.ClusterComponents))] {
		sum += v
	}
	return sum
}

func scaleReadCPU(s *framework.Stack, cluster *framework.CPUCgroup) scaleCPU {
	var c scaleCPU
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return scaleCPU{err: err}
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	for i, f := range fields[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest (already in user)
			continue
		}
		v, _ := strconv.ParseFloat(f, 64)
		c.machine += v / framework.ClockTicks
	}
	procCPU := func(pid string) float64 {
		cpu, _, err := framework.ProcTimes(pid)
		if err != nil && c.err == nil {
			c.err = err
		}
		return cpu
	}
	c.byComponent = make([]float64, len(framework.Components))
	for i, component := range framework.Components {
		c.byComponent[i] = math.NaN() // until read
		pid, err := scaleComponentPID(s, component)
		if err != nil {
			if c.err == nil {
				c.err = err
			}
			continue
		}
		cpu := procCPU(strconv.Itoa(pid))
		c.byComponent[i] = cpu
		c.stack += cpu
	}
	c.self = procCPU("self")
	if cluster != nil {
		throttled, err := cluster.Throttled()
		if err != nil && c.err == nil {
			c.err = err
		}
		c.throttled = throttled.Seconds()
	}
	return c
}

// scaleBackground is work the cluster does apart from the Jobs in front
// of it, which lands in whichever variant it happens in: kube-apiserver's
// garbage collection, whose cost grows with its heap (the watch cache of
// every variant so far), and etcd's compactions (kube-apiserver asks for
// one every five minutes, of all the revisions written since). Read from
// their /metrics before and after a variant, to tell the noise between
// runs of the same variant from a difference between variants.
type scaleBackground struct {
	// kubeGCCPU is kube-apiserver's GC CPU as the Go runtime estimates it
	// (go_cpu_classes_gc_total_cpu_seconds_total: GOMAXPROCS × time in GC
	// phases, so it counts time the quota held the process back).
	kubeGCCPU, kubeGCs float64
	// compactions and compactionMS are etcd's compactions and their time.
	compactions, compactionMS float64
	// etcdDB is the size of etcd's database file at the read. A value
	// not read is NaN, and err says why.
	etcdDB float64
	err    error
}

func scaleReadBackground(s *framework.Stack, kube kubernetes.Interface) scaleBackground {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nan := math.NaN()
	failed := scaleBackground{kubeGCCPU: nan, kubeGCs: nan, compactions: nan, compactionMS: nan, etcdDB: nan}
	kubeMetrics, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		failed.err = fmt.Errorf("kube-apiserver's /metrics: %w", err)
		return failed
	}
	etcdMetrics, err := s.ClusterEtcdMetrics(ctx)
	if err != nil {
		failed.err = fmt.Errorf("etcd's /metrics: %w", err)
		return failed
	}
	var c scaleBackground
	var errs []error
	read := func(metrics, name string) float64 {
		v, err := framework.FindSeries(metrics, name, nil)
		if err != nil {
			errs = append(errs, err)
			return math.NaN()
		}
		return v
	}
	c.kubeGCCPU = read(string(kubeMetrics), "go_cpu_classes_gc_total_cpu_seconds_total")
	c.kubeGCs = read(string(kubeMetrics), "go_gc_duration_seconds_count")
	c.compactions = read(etcdMetrics, "etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count")
	c.compactionMS = read(etcdMetrics, "etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_sum")
	c.etcdDB = read(etcdMetrics, "etcd_mvcc_db_total_size_in_bytes")
	c.err = errors.Join(errs...)
	return c
}

// since is the work done since before; the database's size is the last.
func (c scaleBackground) since(before scaleBackground) scaleBackground {
	return scaleBackground{
		kubeGCCPU:    c.kubeGCCPU - before.kubeGCCPU,
		kubeGCs:      c.kubeGCs - before.kubeGCs,
		compactions:  c.compactions - before.compactions,
		compactionMS: c.compactionMS - before.compactionMS,
		etcdDB:       c.etcdDB,
		err:          errors.Join(before.err, c.err),
	}
}

func (c scaleCPU) since(before scaleCPU) scaleCPU {
	d := scaleCPU{
		machine: c.machine - before.machine, stack: c.stack - before.stack, self: c.self - before.self,
		throttled: c.throttled - before.throttled,
		err:       errors.Join(before.err, c.err),
	}
	if len(c.byComponent) == len(before.byComponent) {
		d.byComponent = slices.Clone(c.byComponent)
		for i := range d.byComponent {
			d.byComponent[i] -= before.byComponent[i] // NaN where either read failed
		}
	}
	return d
}
