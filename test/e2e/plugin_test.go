package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

var (
	buildPluginOnce sync.Once
	pluginPath      string
	pluginErr       error
)

// plugin builds cmd/kubectl-execution into _output/bin once per run and
// returns it as a Kubectl-like client for the given user (admin if nil).
func plugin(t *testing.T, f *framework.Framework, as *framework.Kubectl) *framework.Kubectl {
	t.Helper()
	buildPluginOnce.Do(func() {
		pluginPath = filepath.Join(f.Stack.BinDir, "kubectl-execution")
		cmd := exec.Command("go", "build", "-o", pluginPath, "./cmd/kubectl-execution")
		cmd.Dir = f.Stack.Root
		out, err := cmd.CombinedOutput()
		if err != nil {
			pluginErr = err
			t.Logf("go build ./cmd/kubectl-execution: %s", out)
		}
	})
	if pluginErr != nil {
		t.Fatalf("building the plugin: %v", pluginErr)
	}
	if as == nil {
		as = f.Kubectl
	}
	k := *as.For(t)
	k.Path = pluginPath
	return &k
}

// TestPluginWatch: `kubectl execution watch` follows the seed's exec-whole
// to Succeeded (exit 0, every task at 100 %), and a failing Execution to
// Failed (exit 2, the failure on stderr).
func TestPluginWatch(t *testing.T) {
	f := framework.New(t)
	p := plugin(t, f, nil)
	f.ApplyExample("exec-whole")
	r := p.WithTimeout(3*time.Minute).MustRun("watch", "exec-whole", "-n", "default")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "exec-whole Succeeded 4/4 [a 2/2, b 2/2]") || !strings.HasSuffix(last, "execution has run successfully") {
		t.Errorf("last line of watch: %q\n%s", last, r.Stdout)
	}

	ns := f.CreateNamespace("e2e-plugin")
	f.Kubectl.Apply(controlManifest("broken", nil, controlTask("a", []string{"exit 1"}), controlTask("b", []string{"echo b"}, "a")), "-n", ns)
	r = p.WithTimeout(3*time.Minute).Run("watch", "broken", "-n", ns)
	if r.ExitCode != 2 || !strings.Contains(r.Stderr, "error: execution broken failed: job broken.a.0 failed") {
		t.Errorf("watch of a failing execution: exit %d, stderr %q; want 2 and the failure", r.ExitCode, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "broken Failed 0/2 [a 0/1 (1 failed), b 0/1]") {
		t.Errorf("watch output of a failing execution:\n%s", r.Stdout)
	}

	// logs --failed: the failed job's pod, each line prefixed with the job
	// (kwok runs no container: the log itself may be empty or refused).
	r = p.MustRun("logs", "broken", "-n", ns, "--failed")
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		if !strings.HasPrefix(line, "[broken.a.0] ") {
			t.Errorf("logs --failed line %q, want only broken.a.0's", line)
		}
	}
	if !strings.Contains(r.Stdout, "[broken.a.0] --- pod broken.a.0-") {
		t.Errorf("logs --failed:\n%s", r.Stdout)
	}

	// describe names the failed job and why.
	r = p.MustRun("describe", "broken", "-n", ns)
	for _, want := range []string{"Phase:", "Failed", "Failed jobs:", "broken.a.0:", "b     busybox  1     a (whole)"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// TestPluginGraph: -o dot is the graph subresource's DOT; -o svg draws it
// with Graphviz when dot is installed.
func TestPluginGraph(t *testing.T) {
	f := framework.New(t)
	p := plugin(t, f, nil)
	f.ApplyExample("exec-iterate")
	raw := f.Kubectl.MustRun("get", "--raw", "/apis/execution.kubegene.io/v1alpha1/namespaces/default/executions/exec-iterate/graph?format=dot").Stdout
	if got := p.MustRun("graph", "exec-iterate", "-n", "default", "-o", "dot").Stdout; got != raw {
		t.Errorf("graph -o dot differs from the subresource:\n%s\n---\n%s", got, raw)
	}
	if got := p.MustRun("graph", "exec-iterate", "-n", "default", "--level", "task").Stdout; !strings.Contains(got, `"level": "task"`) {
		t.Errorf("graph --level task:\n%s", got)
	}
	if _, err := exec.LookPath("dot"); err != nil {
		t.Logf("Graphviz's dot is not installed: -o svg is not checked")
		r := p.MustFail("graph", "exec-iterate", "-n", "default", "-o", "svg")
		if !strings.Contains(r.Stderr, "install Graphviz") {
			t.Errorf("graph -o svg without dot: %s", r.Stderr)
		}
		return
	}
	if got := p.MustRun("graph", "exec-iterate", "-n", "default", "-o", "svg").Stdout; !strings.Contains(got, "<svg") || !strings.Contains(got, "iterate.b.1") {
		t.Errorf("graph -o svg: %.300s", got)
	}
}

// TestPluginRBAC: a view user can watch and describe, but retry and suspend
// are forbidden with a clear message; through kubectl's plugin mechanism.
func TestPluginRBAC(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-plugin-rbac")
	f.Kubectl.MustRun("create", "rolebinding", "vera-view", "--clusterrole=view", "--user=vera", "-n", ns)
	vera := f.User("vera")
	f.WaitFor(30*time.Second, "RBAC to let vera read executions", func() (bool, string) {
		r := vera.Run("auth", "can-i", "get", "executions.execution.kubegene.io", "-n", ns)
		return strings.TrimSpace(r.Stdout) == "yes", r.Combined()
	})
	f.Kubectl.Apply(controlManifest("shared", nil, controlTask("a", []string{"exit 1"})), "-n", ns)
	f.WaitForExecutionPhase(ns, "shared", 2*time.Minute, v1alpha1.PhaseFailed)

	p := plugin(t, f, vera)
	if r := p.Run("watch", "shared", "-n", ns); r.ExitCode != 2 {
		t.Errorf("vera's watch of a Failed execution: exit %d: %s", r.ExitCode, r.Stderr)
	}
	p.MustRun("describe", "shared", "-n", ns)
	for _, verb := range []string{"retry", "suspend"} {
		r := p.MustFail(verb, "shared", "-n", ns)
		if !strings.HasPrefix(r.Stderr, "error: forbidden: ") || !strings.Contains(r.Stderr, `User "vera"`) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("vera's %s: %q; want one forbidden line naming her", verb, r.Stderr)
		}
	}
	if r := p.MustFail("describe", "nothing-here", "-n", ns); !strings.Contains(r.Stderr, `error: executions "nothing-here" not found`) {
		t.Errorf("describe of a missing execution: %q", r.Stderr)
	}

	// The admin retries it, through `kubectl execution` as users type it.
	cmd := exec.Command(f.Stack.KubectlPath, "execution", "retry", "shared", "-n", ns)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+f.Stack.AdminKubeconfig, "PATH="+f.Stack.BinDir+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "execution.execution.kubegene.io/shared retried (attempt 2)") {
		t.Errorf("kubectl execution retry: %v: %s", err, out)
	}
}
