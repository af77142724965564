package framework

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultCommandTimeout bounds one kubectl invocation, so that a hung client
// fails its test instead of the whole suite.
const DefaultCommandTimeout = 2 * time.Minute

// Kubectl runs one kubectl binary with one kubeconfig on behalf of a test.
// Every invocation gets --kubeconfig and a discovery --cache-dir private to
// the run (never ~/.kube), and its outcome is logged on the test.
type Kubectl struct {
	// Path is the kubectl binary: the built one (_output/bin/kubectl) or
	// another client, e.g. the machine's own.
	Path string
	// Kubeconfig is passed as --kubeconfig.
	Kubeconfig string
	// CacheDir is passed as --cache-dir.
	CacheDir string
	// Timeout bounds each invocation; DefaultCommandTimeout when zero.
	Timeout time.Duration

	t testing.TB
}

// Result is what one kubectl invocation did.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	ExitCode int // -1 when the process did not run or was killed
	Err      error
	Duration time.Duration
}

// Success reports a zero exit status.
func (r Result) Success() bool { return r.ExitCode == 0 && r.Err == nil }

// Combined is stdout followed by stderr.
func (r Result) Combined() string { return r.Stdout + r.Stderr }

func (r Result) String() string {
	return fmt.Sprintf("$ kubectl %s\n-> exit %d after %s (err: %v)\n--- stdout:\n%s\n--- stderr:\n%s",
		strings.Join(r.Args, " "), r.ExitCode, r.Duration.Round(time.Millisecond), r.Err,
		truncate(r.Stdout, 4000), truncate(r.Stderr, 4000))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("\n... (%d more bytes)", len(s)-n)
}

// For returns a copy of k that reports on t.
func (k *Kubectl) For(t testing.TB) *Kubectl {
	c := *k
	c.t = t
	return &c
}

// WithTimeout returns a copy of k whose invocations time out after d.
func (k *Kubectl) WithTimeout(d time.Duration) *Kubectl {
	c := *k
	c.Timeout = d
	return &c
}

func (k *Kubectl) baseArgs() []string {
	args := []string{"--kubeconfig=" + k.Kubeconfig}
	if k.CacheDir != "" {
		args = append(args, "--cache-dir="+k.CacheDir)
	}
	return args
}

func (k *Kubectl) command(ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.Path, append(k.baseArgs(), args...)...)
	// Nothing from the caller's environment chooses the cluster.
	cmd.Env = append(filterEnv(os.Environ(), "KUBECONFIG"), "KUBECONFIG="+k.Kubeconfig)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func filterEnv(env []string, drop ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// Exec runs kubectl with stdin (may be empty) and returns what happened; it
// never fails the test.
func (k *Kubectl) Exec(stdin string, args ...string) Result {
	if k.t != nil {
		k.t.Helper()
	}
	timeout := k.Timeout
	if timeout == 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := k.command(ctx, args)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start), ExitCode: -1}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		r.ExitCode = 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		r.ExitCode = exitErr.ExitCode()
	default:
		r.Err = err
	}
	if ctx.Err() != nil {
		r.Err = fmt.Errorf("timed out after %s: %w", timeout, ctx.Err())
		r.ExitCode = -1
	}
	if k.t != nil {
		k.t.Logf("$ %s %s -> exit %d (%s)%s", shortPath(k.Path), strings.Join(args, " "), r.ExitCode,
			r.Duration.Round(time.Millisecond), brief(r))
	}
	return r
}

func shortPath(p string) string {
	if i := strings.Index(p, "_output/bin/"); i >= 0 {
		return p[i:]
	}
	return p
}

// brief is a short tail for the log line: stderr when there is one.
func brief(r Result) string {
	s := strings.TrimSpace(r.Stderr)
	if s == "" {
		return ""
	}
	return "\n  stderr: " + truncate(s, 600)
}

// Run runs kubectl and returns what happened; it never fails the test.
func (k *Kubectl) Run(args ...string) Result {
	if k.t != nil {
		k.t.Helper()
	}
	return k.Exec("", args...)
}

// MustRun runs kubectl and fails the test unless it exits 0.
func (k *Kubectl) MustRun(args ...string) Result {
	k.t.Helper()
	r := k.Exec("", args...)
	if !r.Success() {
		k.t.Fatalf("kubectl failed:\n%s", r)
	}
	return r
}

// MustRunInput is MustRun with stdin, e.g. `apply -f -`.
func (k *Kubectl) MustRunInput(stdin string, args ...string) Result {
	k.t.Helper()
	r := k.Exec(stdin, args...)
	if !r.Success() {
		k.t.Fatalf("kubectl failed:\n%s", r)
	}
	return r
}

// MustFail runs kubectl and fails the test unless it exits non-zero (having
// run: a kubectl that could not start or timed out is a failure too).
func (k *Kubectl) MustFail(args ...string) Result {
	k.t.Helper()
	return k.MustFailInput("", args...)
}

// MustFailInput is MustFail with stdin.
func (k *Kubectl) MustFailInput(stdin string, args ...string) Result {
	k.t.Helper()
	r := k.Exec(stdin, args...)
	switch {
	case r.Err != nil:
		k.t.Fatalf("kubectl did not complete:\n%s", r)
	case r.ExitCode == 0:
		k.t.Fatalf("kubectl succeeded, want a non-zero exit:\n%s", r)
	}
	return r
}

// GetJSON runs `kubectl ARGS -o json` and decodes stdout into into.
func (k *Kubectl) GetJSON(into any, args ...string) {
	k.t.Helper()
	r := k.MustRun(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(r.Stdout), into); err != nil {
		k.t.Fatalf("decoding the output of kubectl %s: %v\n%s", strings.Join(args, " "), err, truncate(r.Stdout, 2000))
	}
}

// Apply pipes manifest into `kubectl apply -f -` plus extra args and fails
// the test unless it succeeds.
func (k *Kubectl) Apply(manifest string, extra ...string) Result {
	k.t.Helper()
	return k.MustRunInput(manifest, append([]string{"apply", "-f", "-"}, extra...)...)
}

// Stream is a long-running kubectl (e.g. `get -w`) whose stdout is read line
// by line while the test goes on.
type Stream struct {
	t      testing.TB
	args   []string
	cmd    *exec.Cmd
	cancel context.CancelFunc

	mu     sync.Mutex
	lines  []string
	next   int // first line not yet consumed by WaitForLine
	notify chan struct{}
	done   chan struct{}
	err    error
	stderr bytes.Buffer
}

// Start starts kubectl ARGS in the background; it is killed (by its pid) when
// Stop is called, when maxDuration passes, or when the test ends.
func (k *Kubectl) Start(maxDuration time.Duration, args ...string) *Stream {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), maxDuration)
	cmd := k.command(ctx, args)
	s := &Stream{t: k.t, args: args, cmd: cmd, cancel: cancel, notify: make(chan struct{}, 1), done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		k.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		k.t.Fatalf("starting kubectl %s: %v", strings.Join(args, " "), err)
	}
	k.t.Logf("$ %s %s & (pid %d)", shortPath(k.Path), strings.Join(args, " "), cmd.Process.Pid)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
		err := cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	}()
	k.t.Cleanup(s.Stop)
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Lines returns every stdout line read so far.
func (s *Stream) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// WaitForLine waits until a line not consumed by an earlier WaitForLine
// satisfies match, consumes the lines up to it and returns it. It fails the
// test after timeout, or when kubectl exits first.
func (s *Stream) WaitForLine(timeout time.Duration, what string, match func(line string) bool) string {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i := s.next; i < len(s.lines); i++ {
			if match(s.lines[i]) {
				s.next = i + 1
				line := s.lines[i]
				s.mu.Unlock()
				return line
			}
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-s.done:
			// Drain what was read before the exit.
			s.mu.Lock()
			found := false
			for i := s.next; i < len(s.lines); i++ {
				if match(s.lines[i]) {
					found = true
				}
			}
			s.mu.Unlock()
			if found {
				continue
			}
			s.t.Fatalf("kubectl %s exited (%v) before printing %s; stdout:\n%s\nstderr:\n%s",
				strings.Join(s.args, " "), s.exitErr(), what, strings.Join(s.Lines(), "\n"), s.stderrString())
		case <-deadline.C:
			s.t.Fatalf("kubectl %s did not print %s within %s; stdout so far:\n%s\nstderr:\n%s",
				strings.Join(s.args, " "), what, timeout, strings.Join(s.Lines(), "\n"), s.stderrString())
		}
	}
}

func (s *Stream) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Stream) stderrString() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Stop kills kubectl by its pid (if still running) and waits for it.
// Calling it again does nothing.
func (s *Stream) Stop() {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cancel()
}
