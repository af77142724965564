// Package framework runs end-to-end tests against the local stack of
// hack/local-up.sh (a real kube-apiserver, kube-controller-manager,
// kube-scheduler and etcd, kwok as the kubelet, and the execution-apiserver
// registered through the aggregator), driving the BUILT kubectl
// (_output/bin/kubectl) and, where a test asks for it, any other client.
//
// Main (called from TestMain) brings the stack up before the tests and down
// after them, or reuses a stack that was already running and leaves it up;
// New gives each test an admin kubectl and helpers whose objects are removed
// when the test ends.
package framework

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ClusterComponents are the local stack's cluster: all of it but the
// execution-apiserver, in start order.
var ClusterComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// Components of the local stack in start order (hack/local-up.sh): the
// cluster, then the execution-apiserver.
var Components = append(slices.Clip(ClusterComponents), "execution-apiserver")

// APIService is the registration of the execution API in the aggregator.
const APIService = "v1alpha1.execution.kubegene.io"

// Stack is the local stack the tests run against.
type Stack struct {
	// Root is the repository checkout (where go.mod says kubegene.io/kubegene).
	Root string
	// BinDir is _output/bin, LocalDir _output/local.
	BinDir, LocalDir string
	// AdminKubeconfig is the admin (system:masters) kubeconfig.
	AdminKubeconfig string
	// KubectlPath is the built kubectl.
	KubectlPath string
	// CacheDir is the kubectl discovery cache of this run.
	CacheDir string

	// started lists the components this run started (and will stop).
	started []string
	// setUpStarted is started as set-up left it (teardown empties started).
	setUpStarted []string
	// firstLook is what kubectl saw right after set-up (see FirstLook).
	firstLook FirstLook
	// logStart is the size of each log when the run began: LogTails shows
	// only what this run wrote (the logs are appended to across runs).
	logStart map[string]int64
}

var current *Stack

// Current is the stack Main set up; nil outside of a Main run.
func Current() *Stack { return current }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[e2e] "+format+"\n", args...)
}

// Main sets up the stack, runs the tests and tears the stack down; TestMain
// passes its result to os.Exit.
//
// When every component is already running the stack is reused and left up.
// Otherwise the tools are built (hack/tools/build.sh), the execution-apiserver
// is built (go build ./cmd/execution-apiserver), `hack/local-up.sh up` starts
// what is missing, and at the end exactly what this run started is stopped
// (`hack/local-up.sh down` when it started everything). A watchdog process
// does that teardown if the test process dies first (a panic, a go test
// timeout, a signal). Runs of the suite in one checkout are serialized by a
// lock on _output/.e2e.lock.
func Main(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run() // listing tests needs no stack
	}
	root, err := RepoRoot()
	if err != nil {
		logf("%v", err)
		return 1
	}
	s := &Stack{
		Root:            root,
		BinDir:          filepath.Join(root, "_output", "bin"),
		LocalDir:        filepath.Join(root, "_output", "local"),
		AdminKubeconfig: filepath.Join(root, "_output", "local", "kubeconfig"),
		KubectlPath:     filepath.Join(root, "_output", "bin", "kubectl"),
	}
	cacheDir, err := os.MkdirTemp("", "kubegene-e2e-kubectl-cache-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer os.RemoveAll(cacheDir)
	s.CacheDir = cacheDir

	lock, err := s.lock()
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer lock.Close()

	s.logStart = map[string]int64{}
	logs, _ := filepath.Glob(filepath.Join(s.LocalDir, "logs", "*.log"))
	for _, f := range logs {
		if fi, err := os.Stat(f); err == nil {
			s.logStart[f] = fi.Size()
		}
	}

	start := time.Now()
	watchdog, err := s.setUp(lock)
	if err != nil {
		logf("the local stack did not come up: %v", err)
		fmt.Fprint(os.Stderr, s.LogTails(40))
		s.tearDown()
		watchdog.release()
		return 1
	}
	logf("stack ready in %s (started by this run: %v)", time.Since(start).Round(time.Second), s.started)
	s.setUpStarted = slices.Clone(s.started)
	// Before anything else: how soon after set-up the API is usable is
	// what this records (see FirstLook).
	s.firstLook = s.lookFirst()
	logf("first look: kubectl explain executions.spec.tasks.dependents -> exit %d (%s), kubectl api-resources -> exit %d (%s)",
		s.firstLook.Explain.ExitCode, s.firstLook.Explain.Duration.Round(time.Millisecond),
		s.firstLook.APIResources.ExitCode, s.firstLook.APIResources.Duration.Round(time.Millisecond))
	current = s

	code := m.Run()

	if code != 0 {
		logf("tests failed; the end of each component's log follows")
		fmt.Fprint(os.Stderr, s.LogTails(30))
	}
	current = nil
	s.tearDown()
	watchdog.release()
	return code
}

// RepoRoot finds the checkout from the working directory (go test runs in
// the package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module kubegene.io/kubegene\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of kubegene.io/kubegene above the working directory")
		}
		dir = parent
	}
}

// lock serializes e2e runs in this checkout: they share ports and _output/local.
// While another run holds the lock it waits, saying who holds it; a lock whose
// taker is gone but whose descriptor lives on in other processes (a stack
// started under `flock _output/.e2e.lock ...` before hack/local-up.sh closed
// inherited descriptors) would never be released: that fails at once.
func (s *Stack) lock() (*os.File, error) {
	if err := os.MkdirAll(filepath.Join(s.Root, "_output"), 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(s.Root, "_output", ".e2e.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return f, nil
	}
	logf("another e2e run holds %s: waiting for it (%s)", path, describeLock(f))
	lastLog := time.Now()
	for {
		time.Sleep(2 * time.Second)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			return f, nil
		}
		if taker, alive := lockTaker(f); taker > 0 && !alive {
			holders := lockHolders(f)
			f.Close()
			return nil, fmt.Errorf("%s is locked by pid %d, which has exited; its descriptor lives on in %s. "+
				"They inherited it from whatever started them under the lock: stop them (hack/local-up.sh down "+
				"if they are the stack) and run again", path, taker, strings.Join(holders, "; "))
		}
		if time.Since(lastLog) > time.Minute {
			logf("still waiting for %s (%s)", path, describeLock(f))
			lastLog = time.Now()
		}
	}
}

// lockTaker is the pid /proc/locks names for the flock on f (the process
// that took it) and whether that process still exists; 0 when not locked.
func lockTaker(f *os.File) (pid int, alive bool) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return 0, false
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, false
	}
	suffix := ":" + strconv.FormatUint(st.Ino, 10)
	for _, line := range strings.Split(string(data), "\n") {
		// "3: FLOCK  ADVISORY  WRITE 15333 fe:00:5308890 0 EOF"; waiters have "->".
		fields := strings.Fields(line)
		if len(fields) < 6 || fields[1] != "FLOCK" || !strings.HasSuffix(fields[5], suffix) {
			continue
		}
		p, err := strconv.Atoi(fields[4])
		if err != nil {
			continue
		}
		_, err = os.Stat(fmt.Sprintf("/proc/%d", p))
		return p, err == nil
	}
	return 0, false
}

// describeLock says who holds the lock on f, for the waiting message.
func describeLock(f *os.File) string {
	pid, alive := lockTaker(f)
	switch {
	case pid == 0:
		return "holder unknown"
	case !alive:
		return fmt.Sprintf("taken by pid %d, which has exited", pid)
	}
	return fmt.Sprintf("held by pid %d: %s", pid, cmdline(pid))
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	s := strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " "))
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return s
}

// lockWaiters are the pids /proc/locks shows blocked on the flock of inode ino.
func lockWaiters(ino uint64) map[int]bool {
	waiters := map[int]bool{}
	data, _ := os.ReadFile("/proc/locks")
	suffix := ":" + strconv.FormatUint(ino, 10)
	for _, line := range strings.Split(string(data), "\n") {
		// "3: -> FLOCK  ADVISORY  WRITE 16792 fe:00:5308890 0 EOF"
		fields := strings.Fields(line)
		if len(fields) >= 7 && fields[1] == "->" && fields[2] == "FLOCK" && strings.HasSuffix(fields[6], suffix) {
			if pid, err := strconv.Atoi(fields[5]); err == nil {
				waiters[pid] = true
			}
		}
	}
	return waiters
}

// lockHolders lists "PID CMDLINE" of the other processes that have f's file
// open, except those waiting for its lock.
func lockHolders(f *os.File) []string {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil
	}
	waiters := lockWaiters(st.Ino)
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == os.Getpid() || waiters[pid] {
			continue
		}
		fds, _ := filepath.Glob(p + "/fd/*")
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && target == f.Name() {
				out = append(out, fmt.Sprintf("%d %s", pid, cmdline(pid)))
				break
			}
		}
	}
	return out
}

// Running returns the components `hack/local-up.sh status` reports running.
func (s *Stack) Running() ([]string, error) {
	// Exit status 3 means a stale pid file; the lines still say it all.
	out, err := s.script(nil, "hack/local-up.sh", "status")
	if err != nil && !strings.Contains(err.Error(), "exit status 3") {
		return nil, fmt.Errorf("hack/local-up.sh status: %v\n%s", err, out)
	}
	var running []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == "running" {
			running = append(running, f[0])
		}
	}
	return running, nil
}

func (s *Stack) setUp(lock *os.File) (*watchdog, error) {
	running, err := s.Running()
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, c := range Components {
		if !slices.Contains(running, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		logf("reusing the running stack (it stays up after the tests); its execution-apiserver may predate your latest changes")
		return nil, s.waitAvailable(time.Minute)
	}
	if len(running) > 0 {
		logf("components already running (left running after the tests): %v; starting %v", running, missing)
	}
	// From here on, whatever happens to this process, the watchdog stops
	// what this run starts.
	s.started = missing
	wd, err := s.startWatchdog(lock)
	if err != nil {
		s.started = nil
		return nil, err
	}
	steps := []struct {
		env  []string
		args []string
	}{
		{nil, []string{"hack/tools/build.sh"}},
		{nil, []string{"go", "build", "-o", filepath.Join(s.BinDir, "execution-apiserver"), "./cmd/execution-apiserver"}},
		// The tools were just built.
		{[]string{"LOCAL_UP_SKIP_TOOLS_BUILD=1"}, []string{"hack/local-up.sh", "up"}},
	}
	for _, step := range steps {
		t0 := time.Now()
		logf("$ %s", strings.Join(step.args, " "))
		if out, err := s.scriptTee(step.env, step.args...); err != nil {
			return wd, fmt.Errorf("%s: %v\n%s", strings.Join(step.args, " "), err, tail(out, 40))
		}
		logf("  done in %s", time.Since(t0).Round(time.Second))
	}
	return wd, s.waitAvailable(time.Minute)
}

// FirstLook is what the built kubectl, as admin and with an empty discovery
// cache, answered right after Main's set-up returned, before any test ran:
// the first things a user does once `hack/local-up.sh up` says the stack is
// ready. Nothing waited or retried in between, so it holds the set-up to its
// word that "ready" means usable.
type FirstLook struct {
	// Explain is `kubectl explain executions.spec.tasks.dependents`.
	Explain Result
	// APIResources is `kubectl api-resources --api-group=execution.kubegene.io`,
	// run right after Explain.
	APIResources Result
}

// FirstLook returns what kubectl answered right after set-up (see FirstLook).
func (s *Stack) FirstLook() FirstLook { return s.firstLook }

// StartedBySetUp lists the components Main's set-up started; empty when it
// reused a running stack (then FirstLook says nothing about how soon a
// stack is usable after it starts).
func (s *Stack) StartedBySetUp() []string { return slices.Clone(s.setUpStarted) }

// lookFirst runs the probes of FirstLook, each with a discovery cache of its
// own that it removes afterwards: a probe that looked too early must not
// leave what it saw to the tests.
func (s *Stack) lookFirst() FirstLook {
	probe := func(args ...string) Result {
		dir, err := os.MkdirTemp("", "kubegene-e2e-first-look-")
		if err != nil {
			return Result{Args: args, ExitCode: -1, Err: err}
		}
		defer os.RemoveAll(dir)
		k := s.kubectl(nil)
		k.CacheDir = dir
		return k.Run(args...)
	}
	return FirstLook{
		Explain:      probe("explain", "executions.spec.tasks.dependents"),
		APIResources: probe("api-resources", "--api-group=execution.kubegene.io"),
	}
}

func (s *Stack) waitAvailable(timeout time.Duration) error {
	k := s.kubectl(nil)
	deadline := time.Now().Add(timeout)
	for {
		r := k.Run("get", "apiservice", APIService, "-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`)
		if r.Success() && r.Stdout == "True" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("APIService %s not Available after %s:\n%s", APIService, timeout, r)
		}
		time.Sleep(time.Second)
	}
}

// tearDown stops what this run started: `down` when it was everything,
// otherwise `stop NAME` for each, last started first.
func (s *Stack) tearDown() {
	if len(s.started) == 0 {
		return
	}
	var err error
	if len(s.started) == len(Components) {
		logf("$ hack/local-up.sh down")
		_, err = s.scriptTee(nil, "hack/local-up.sh", "down")
	} else {
		for i := len(s.started) - 1; i >= 0; i-- {
			logf("$ hack/local-up.sh stop %s", s.started[i])
			if _, e := s.scriptTee(nil, "hack/local-up.sh", "stop", s.started[i]); e != nil {
				err = e
			}
		}
	}
	if err != nil {
		logf("teardown: %v", err)
	}
	s.started = nil
}

// watchdog is a process in its own session that waits on a pipe from the
// test process: "ok" means the test process tore the stack down itself; end
// of file (the test process died) makes it stop what the run started.
type watchdog struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

const watchdogScript = `
if IFS= read -r line && [ "$line" = ok ]; then exit 0; fi
echo "[e2e-watchdog] $(date -u +%FT%TZ) the e2e test process is gone; stopping what it started: $*"
cd "$E2E_ROOT" || exit 1
if [ "$1" = all ]; then
  hack/local-up.sh down
else
  shift
  for c in "$@"; do hack/local-up.sh stop "$c"; done
fi
echo "[e2e-watchdog] $(date -u +%FT%TZ) done"
`

func (s *Stack) startWatchdog(lock *os.File) (*watchdog, error) {
	args := []string{"-c", watchdogScript, "e2e-watchdog"}
	if len(s.started) == len(Components) {
		args = append(args, "all")
	} else {
		args = append(args, "some")
		for i := len(s.started) - 1; i >= 0; i-- {
			args = append(args, s.started[i])
		}
	}
	logDir := filepath.Join(s.LocalDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(logDir, "e2e-watchdog.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command("bash", args...)
	cmd.Env = append(os.Environ(), "E2E_ROOT="+s.Root)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own session: a Ctrl-C meant for go test does not reach it. The lock
	// file goes along (fd 3), so the next run waits until teardown is done.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.ExtraFiles = []*os.File{lock}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &watchdog{cmd: cmd, stdin: stdin}, nil
}

// release tells the watchdog that teardown is done and waits for it to exit.
func (w *watchdog) release() {
	if w == nil {
		return
	}
	_, _ = io.WriteString(w.stdin, "ok\n")
	_ = w.stdin.Close()
	_ = w.cmd.Wait()
}

// script runs a command in the checkout and returns its combined output.
func (s *Stack) script(env []string, args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = s.Root
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// scriptTee is script with the output also shown as it comes.
func (s *Stack) scriptTee(env []string, args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = s.Root
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	w := io.MultiWriter(&buf, os.Stderr)
	cmd.Stdout, cmd.Stderr = w, w
	// A component started by local-up.sh must not keep the pipe open; if one
	// does, do not wait for it forever.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	return buf.String(), err
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogTail returns the last n lines of a component's log
// (_output/local/logs/NAME.log).
func (s *Stack) LogTail(component string, n int) string {
	data, err := os.ReadFile(filepath.Join(s.LocalDir, "logs", component+".log"))
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return tail(string(data), n)
}

// LogTails is the end of what this run wrote to each log in
// _output/local/logs.
func (s *Stack) LogTails(n int) string {
	files, _ := filepath.Glob(filepath.Join(s.LocalDir, "logs", "*.log"))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if off := s.logStart[f]; off > 0 && off <= int64(len(data)) {
			data = data[off:]
		}
		if len(strings.TrimSpace(string(data))) == 0 {
			fmt.Fprintf(&b, "===== %s: nothing written by this run =====\n", f)
			continue
		}
		fmt.Fprintf(&b, "===== %s (last %d lines of this run) =====\n%s\n", f, n, tail(string(data), n))
	}
	return b.String()
}

// kubectl is the built kubectl as admin, reporting on t (nil: no logging).
func (s *Stack) kubectl(t testing.TB) *Kubectl {
	return &Kubectl{Path: s.KubectlPath, Kubeconfig: s.AdminKubeconfig, CacheDir: s.CacheDir, t: t}
}

// Restart stops one component and starts it again with the flags it had
// (`hack/local-up.sh restart NAME`), waiting until it serves again; for
// fault tests, e.g. Restart(t, "execution-apiserver").
func (s *Stack) Restart(t testing.TB, component string) {
	t.Helper()
	t0 := time.Now()
	out, err := s.script(nil, "hack/local-up.sh", "restart", component)
	if err != nil {
		t.Fatalf("hack/local-up.sh restart %s: %v\n%s\n%s", component, err, out, s.LogTail(component, 40))
	}
	t.Logf("restarted %s in %s", component, time.Since(t0).Round(time.Millisecond))
	if err := s.waitAvailable(time.Minute); err != nil {
		t.Fatal(err)
	}
}

// Stop stops one component (`hack/local-up.sh stop NAME`) and registers a
// cleanup that starts it again if the test did not.
func (s *Stack) Stop(t testing.TB, component string) {
	t.Helper()
	if out, err := s.script(nil, "hack/local-up.sh", "stop", component); err != nil {
		t.Fatalf("hack/local-up.sh stop %s: %v\n%s", component, err, out)
	}
	t.Cleanup(func() {
		if running, _ := s.Running(); !slices.Contains(running, component) {
			s.Start(t, component)
		}
	})
}

// Start starts one stopped component with the flags it had
// (`hack/local-up.sh start NAME`) and waits until it serves.
func (s *Stack) Start(t testing.TB, component string) {
	t.Helper()
	if out, err := s.script(nil, "hack/local-up.sh", "start", component); err != nil {
		t.Fatalf("hack/local-up.sh start %s: %v\n%s\n%s", component, err, out, s.LogTail(component, 40))
	}
	if err := s.waitAvailable(time.Minute); err != nil {
		t.Fatal(err)
	}
}

// RestartWithFlags restarts one component with extra flags added to its
// defaults (hack/local-up.sh's <COMPONENT>_EXTRA_ARGS), e.g.
// RestartWithFlags(b, "execution-apiserver", "--enable-controller=false"),
// and registers a cleanup that restarts it with its defaults.
func (s *Stack) RestartWithFlags(t testing.TB, component, flags string) {
	t.Helper()
	s.restartWithFlags(t, component, flags)
	t.Cleanup(func() { s.restartWithFlags(t, component, "") })
}

func (s *Stack) restartWithFlags(t testing.TB, component, flags string) {
	t.Helper()
	if out, err := s.script(nil, "hack/local-up.sh", "stop", component); err != nil {
		t.Fatalf("hack/local-up.sh stop %s: %v\n%s", component, err, out)
	}
	// Without recorded flags, start builds them anew, with the extra ones.
	if err := os.Remove(filepath.Join(s.LocalDir, "args", component+".args")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	extra := strings.ToUpper(strings.ReplaceAll(component, "-", "_")) + "_EXTRA_ARGS=" + flags
	if out, err := s.script([]string{extra}, "hack/local-up.sh", "start", component); err != nil {
		t.Fatalf("hack/local-up.sh start %s with %q: %v\n%s\n%s", component, flags, err, out, s.LogTail(component, 40))
	}
	if err := s.waitAvailable(time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted %s with extra flags %q", component, flags)
}

// Path is a path in the checkout, e.g. Path("artifacts/examples/exec-whole.yaml").
func (s *Stack) Path(rel string) string { return filepath.Join(s.Root, filepath.FromSlash(rel)) }

// EnvValue reads one variable of _output/local/env (written by
// hack/local-up.sh up), or def when it is not there.
func (s *Stack) EnvValue(name, def string) string {
	data, err := os.ReadFile(filepath.Join(s.LocalDir, "env"))
	if err != nil {
		return def
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "export "+name+"="); ok {
			return v
		}
	}
	return def
}

// ExecutionAPIServerURL is the execution-apiserver's own address, for
// requests that bypass the aggregator (kubectl --server=...).
func (s *Stack) ExecutionAPIServerURL() string {
	return "https://127.0.0.1:" + s.EnvValue("EXEC_PORT", "28443")
}

// ClusterEtcdURL is where the cluster's etcd serves its clients and its
// /metrics (plain http on localhost).
func (s *Stack) ClusterEtcdURL() string {
	return "http://127.0.0.1:" + s.EnvValue("ETCD_CLIENT_PORT", "23790")
}

// ExecutionEtcd is where the execution-apiserver's embedded etcd serves
// its clients (http://127.0.0.1:EXEC_ETCD_PORT, no TLS) and the prefix of
// the server's keys (--etcd-prefix), as its recorded command line
// (_output/local/args/execution-apiserver.args) has them: an Execution is
// stored under PREFIX/execution.kubegene.io/executions/NAMESPACE/NAME. The
// error says why there is none to read: a server started before
// hack/local-up.sh fixed the port (it was random), or one on --etcd-servers.
func (s *Stack) ExecutionEtcd() (endpoint, prefix string, err error) {
	argsFile := filepath.Join(s.LocalDir, "args", "execution-apiserver.args")
	raw, err := os.ReadFile(argsFile)
	if err != nil {
		return "", "", fmt.Errorf("the execution-apiserver's command line: %w", err)
	}
	prefix = "/registry/execution.kubegene.io" // the server's default --etcd-prefix
	for _, a := range strings.Split(string(raw), "\x00") {
		switch {
		case strings.HasPrefix(a, "--etcd-servers="):
			return "", "", fmt.Errorf("the execution-apiserver runs on an external etcd (%s in %s), not its embedded one", a, argsFile)
		case strings.HasPrefix(a, "--embedded-etcd-client-url="):
			endpoint = strings.TrimPrefix(a, "--embedded-etcd-client-url=")
		case strings.HasPrefix(a, "--etcd-prefix="):
			prefix = strings.TrimPrefix(a, "--etcd-prefix=")
		}
	}
	if endpoint == "" || strings.HasSuffix(endpoint, ":0") {
		return "", "", fmt.Errorf("the running execution-apiserver's embedded etcd has no fixed port (%s has no --embedded-etcd-client-url, "+
			"or port 0): it was started before hack/local-up.sh gave it EXEC_ETCD_PORT. Start it with its flags made anew: "+
			"rm %s && hack/local-up.sh restart execution-apiserver (or hack/local-up.sh down && hack/local-up.sh up)", argsFile, argsFile)
	}
	return endpoint, prefix, nil
}
