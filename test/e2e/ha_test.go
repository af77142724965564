package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

const (
	leaseNamespace = "kubegene-system"
	leaseName      = "execution-controller"
	leaseDuration  = 15 * time.Second // the server's default --leader-elect-lease-duration
	retryPeriod    = 2 * time.Second  // and --leader-elect-retry-period
)

// replica is an execution-apiserver process this test owns.
type replica struct {
	name string
	cmd  *exec.Cmd
	log  string
}

// startReplica starts an execution-apiserver with the local stack's flags,
// on port and on the external etcd given, instead of an embedded one.
func startReplica(t *testing.T, s *framework.Stack, name string, port int, etcd, prefix string) *replica {
	t.Helper()
	return startReplicaWith(t, s, name, fmt.Sprint(port), "--etcd-servers="+etcd, "--etcd-prefix="+prefix)
}

// startReplicaWith starts an execution-apiserver with the local stack's
// flags on port, plus extra flags; an --etcd-servers among them replaces the
// embedded etcd.
func startReplicaWith(t *testing.T, s *framework.Stack, name, port string, extra ...string) *replica {
	t.Helper()
	external := slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--etcd-servers=") })
	raw, err := os.ReadFile(filepath.Join(s.LocalDir, "args", "execution-apiserver.args"))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, a := range strings.FieldsFunc(string(raw), func(r rune) bool { return r == 0 || r == '\n' }) {
		switch {
		case strings.HasPrefix(a, "--secure-port="):
		case external && strings.HasPrefix(a, "--embedded-etcd-data-dir="):
		default:
			args = append(args, a)
		}
	}
	args = append(append(args, "--secure-port="+port), extra...)
	r := &replica{name: name, log: filepath.Join(s.LocalDir, "logs", "ha-"+name+".log")}
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(args[0], args[1:]...)
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting replica %s: %v", name, err)
	}
	logFile.Close()
	t.Cleanup(func() { r.kill() })
	return r
}

// kill sends SIGKILL to the replica's own pid and reaps it.
func (r *replica) kill() {
	if r.cmd.ProcessState != nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

func (r *replica) logTail(n int) string {
	data, _ := os.ReadFile(r.log)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pointAPIServiceAt makes the aggregator send requests to the local server
// listening on port: the ExternalName Service and the APIService name it.
func pointAPIServiceAt(t *testing.T, k *framework.Kubectl, port string, must bool) {
	run := k.Run
	if must {
		run = k.MustRun
	}
	run("patch", "service", "execution-apiserver", "-n", leaseNamespace, "--type=json",
		"-p", `[{"op":"replace","path":"/spec/ports/0/port","value":`+port+`},{"op":"replace","path":"/spec/ports/0/targetPort","value":`+port+`}]`)
	run("patch", "apiservice", "v1alpha1.execution.kubegene.io", "--type=json",
		"-p", `[{"op":"replace","path":"/spec/service/port","value":`+port+`}]`)
}

func leaseHolder(k *framework.Kubectl) string {
	r := k.Run("get", "lease", leaseName, "-n", leaseNamespace, "-o", "jsonpath={.spec.holderIdentity}")
	return strings.TrimSpace(r.Stdout)
}

// TestHAReplicasLeaderKilled: two execution-apiserver replicas share one
// external etcd; the replica leading the controller is killed in the middle
// of a 200-job Execution; the other takes the Lease over within the lease
// duration, and the Execution succeeds with every Job created exactly once.
func TestHAReplicasLeaderKilled(t *testing.T) {
	f := framework.New(t)
	k := f.Kubectl
	s := f.Stack

	// The stack's own replica would compete for the Lease: stop it for the
	// test (Stop starts it again at the end).
	s.Stop(t, "execution-apiserver")
	etcd := s.ClusterEtcdURL()
	prefix := "/kubegene-ha-" + framework.RandomSuffix()
	servicePort := s.EnvValue("EXEC_PORT", "28443")
	t.Cleanup(func() { pointAPIServiceAt(t, k, servicePort, false) })

	// The leader starts first, so it takes the Lease once the old one expires.
	leader := startReplica(t, s, "leader", 28445, etcd, prefix)
	var leaderID string
	f.WaitFor(leaseDuration+30*time.Second, "the first replica to hold the Lease", func() (bool, string) {
		data, _ := os.ReadFile(leader.log)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "Became leader") {
				if i := strings.Index(line, `identity="`); i >= 0 {
					leaderID = strings.SplitN(line[i+len(`identity="`):], `"`, 2)[0]
				}
			}
		}
		return leaderID != "" && leaseHolder(k) == leaderID, "holder " + leaseHolder(k) + "\n" + leader.logTail(5)
	})
	follower := startReplica(t, s, "follower", 28444, etcd, prefix)

	// The aggregator talks to the follower, which survives the test.
	pointAPIServiceAt(t, k, "28444", true)
	f.WaitFor(time.Minute, "the APIService to be Available through the follower", func() (bool, string) {
		r := k.Run("get", "executions", "-A")
		return r.Success(), r.Combined() + follower.logTail(5)
	})

	ns := f.CreateNamespace("e2e-ha")
	const name, total, killAt = "exec-ha", 200, 40
	e := ctlBigExecution(name, 4, 50, 20)
	rec := ctlRecordJobUIDs(t, k, ns)
	k.Apply(ctlManifest(t, e), "-n", ns)
	framework.WaitFor(t, 3*time.Minute, 250*time.Millisecond, fmt.Sprintf("%d jobs to exist", killAt), func() (bool, string) {
		return rec.Count() >= killAt, fmt.Sprintf("%d jobs", rec.Count())
	})

	killed := time.Now()
	leader.kill()
	f.WaitFor(leaseDuration+30*time.Second, "the follower to take the Lease over", func() (bool, string) {
		holder := leaseHolder(k)
		return holder != "" && holder != leaderID, "holder " + holder
	})
	// When the follower acquired the Lease, by the Lease's own record (not
	// by when this test polled it). The follower sees the leader's last
	// renewal up to one jittered retry period (1.2 × 2 s) late, waits the
	// lease duration, and tries again within one more: 19.8 s at most, plus
	// a margin of 3 s for a loaded two-core machine.
	acquired := strings.TrimSpace(k.MustRun("get", "lease", leaseName, "-n", leaseNamespace, "-o", "jsonpath={.spec.acquireTime}").Stdout)
	at, err := time.Parse(time.RFC3339Nano, acquired)
	if err != nil {
		t.Fatalf("lease acquireTime %q: %v", acquired, err)
	}
	takeover := at.Sub(killed)
	t.Logf("leader killed with %d of %d jobs created; the follower acquired the Lease %s later", rec.Count(), total, takeover.Round(100*time.Millisecond))
	if limit := leaseDuration + 2*retryPeriod*6/5 + 3*time.Second; takeover > limit {
		t.Errorf("takeover took %s, more than the lease duration, two jittered retry periods and a 3 s margin (%s)", takeover, limit)
	}

	got := f.WaitForExecutionPhase(ns, name, 5*time.Minute, v1alpha1.PhaseSucceeded, v1alpha1.PhaseFailed)
	if got.Status.Phase != v1alpha1.PhaseSucceeded {
		t.Fatalf("phase %s: %s\nfollower log:\n%s", got.Status.Phase, got.Status.Message, follower.logTail(30))
	}
	time.Sleep(3 * time.Second)
	jobs := ctlJobs(t, k, ns)
	rec.Stop()
	uids, _, _ := rec.snapshot()
	if len(jobs) != total || len(uids) != total {
		t.Errorf("%d jobs at the end and %d names seen, want %d", len(jobs), len(uids), total)
	}
	for jobName, u := range uids {
		if len(u) != 1 {
			t.Errorf("job %s was created %d times: %v", jobName, len(u), u)
		}
	}
	ctlCheckJobs(t, got, jobs)
}
