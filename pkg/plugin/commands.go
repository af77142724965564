package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// labelJobName is the label the Job controller puts on a Job's pods.
const labelJobName = "batch.kubernetes.io/job-name"

func newDescribeCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Summarize an Execution: its tasks, their progress, its failed jobs",
		Args:  func(_ *cobra.Command, args []string) error { return oneName(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.clients()
			if err != nil {
				return err
			}
			e, err := c.executions.ExecutionV1alpha1().Executions(c.namespace).Get(cmd.Context(), args[0], metav1.GetOptions{})
			if err != nil {
				return err
			}
			WriteDescribe(o.Out, e, time.Now())
			return nil
		},
	}
}

// Graph output formats.
const (
	graphJSON = "json"
	graphDOT  = "dot"
	graphSVG  = "svg"
	graphPNG  = "png"
)

func newGraphCommand(o *options) *cobra.Command {
	var format, level string
	cmd := &cobra.Command{
		Use:   "graph NAME",
		Short: "Print an Execution's dependency graph (JSON, Graphviz DOT, SVG or PNG)",
		Long: `Print an Execution's dependency graph from its graph subresource, per job or
per task, as JSON, Graphviz DOT, or SVG/PNG drawn by Graphviz's dot.`,
		Args: func(_ *cobra.Command, args []string) error { return oneName(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains([]string{graphJSON, graphDOT, graphSVG, graphPNG}, format) {
				return fmt.Errorf("unsupported output %q: use json, dot, svg or png", format)
			}
			if level != "job" && level != "task" {
				return fmt.Errorf("unsupported level %q: use job or task", level)
			}
			c, err := o.clients()
			if err != nil {
				return err
			}
			serverFormat := graphJSON
			if format != graphJSON {
				serverFormat = graphDOT
			}
			body, err := c.executions.ExecutionV1alpha1().RESTClient().Get().Namespace(c.namespace).
				Resource("executions").Name(args[0]).SubResource("graph").
				Param("format", serverFormat).Param("level", level).Do(cmd.Context()).Raw()
			if err != nil {
				return err
			}
			return writeGraph(cmd.Context(), o.Out, format, body)
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", graphJSON, "Output format: json, dot, svg or png (svg and png need Graphviz's dot)")
	cmd.Flags().StringVar(&level, "level", "job", "Vertices per job or per task: job or task")
	return cmd
}

// writeGraph writes the graph the server sent in the asked format: JSON
// indented for reading, DOT as it is, SVG and PNG drawn by dot.
func writeGraph(ctx context.Context, out io.Writer, format string, body []byte) error {
	switch format {
	case graphJSON:
		var b bytes.Buffer
		if err := json.Indent(&b, body, "", "  "); err != nil {
			return fmt.Errorf("the server's graph is not JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err := b.WriteTo(out)
		return err
	case graphDOT:
		_, err := out.Write(body)
		return err
	}
	dot, err := exec.LookPath("dot")
	if err != nil {
		return fmt.Errorf("-o %s needs Graphviz's dot, which is not on PATH: install Graphviz (e.g. apt-get install graphviz, brew install graphviz) or use -o dot", format)
	}
	cmd := exec.CommandContext(ctx, dot, "-T"+format)
	cmd.Stdin, cmd.Stdout = bytes.NewReader(body), out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dot -T%s: %v: %s", format, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

type logsOptions struct {
	task   string
	index  int
	failed bool
	follow bool
}

func newLogsCommand(o *options) *cobra.Command {
	var lo logsOptions
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the logs of an Execution's jobs, each line prefixed with its job",
		Args:  func(_ *cobra.Command, args []string) error { return oneName(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.clients()
			if err != nil {
				return err
			}
			return printLogs(cmd.Context(), c, args[0], lo, o.Out, o.ErrOut)
		},
	}
	cmd.Flags().StringVar(&lo.task, "task", "", "Only the jobs of this task")
	cmd.Flags().IntVar(&lo.index, "index", -1, "Only the job of this index (with --task)")
	cmd.Flags().BoolVar(&lo.failed, "failed", false, "Only failed jobs")
	cmd.Flags().BoolVarP(&lo.follow, "follow", "f", false, "Follow the logs")
	return cmd
}

// printLogs prints the logs of the pods of the Execution's selected Jobs,
// in job order, each line prefixed with "[JOB] ".
func printLogs(ctx context.Context, c *clients, name string, lo logsOptions, out, errOut io.Writer) error {
	e, err := c.executions.ExecutionV1alpha1().Executions(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	selector := labels.Set{v1alpha1.LabelExecution: name}
	if lo.task != "" {
		selector[v1alpha1.LabelTask] = lo.task
	}
	if lo.index >= 0 {
		if lo.task == "" {
			return errors.New("--index needs --task")
		}
		selector[v1alpha1.LabelIndex] = strconv.Itoa(lo.index)
	}
	jobs, err := c.kube.BatchV1().Jobs(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return err
	}
	var selected []batchv1.Job
	for _, j := range jobs.Items {
		if ref := metav1.GetControllerOf(&j); ref == nil || ref.UID != e.UID {
			continue
		}
		if lo.failed && !jobFailed(&j) {
			continue
		}
		selected = append(selected, j)
	}
	slices.SortFunc(selected, func(a, b batchv1.Job) int { return compareJobs(a.Labels, b.Labels) })
	if len(selected) == 0 {
		fmt.Fprintf(errOut, "no jobs of execution %s match\n", name)
		return nil
	}

	lines := &lineWriter{out: out}
	var wg sync.WaitGroup
	for _, j := range selected {
		pods, err := c.kube.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.Set{labelJobName: j.Name}.String()})
		if err != nil {
			return err
		}
		if len(pods.Items) == 0 {
			lines.printf("[%s] (no pod left)\n", j.Name)
		}
		for _, p := range pods.Items {
			if !podOf(&p, j.UID) {
				continue
			}
			stream := func() { streamLog(ctx, c, j.Name, &p, lo.follow, lines) }
			if lo.follow {
				wg.Go(stream)
			} else {
				stream()
			}
		}
	}
	wg.Wait()
	return nil
}

func podOf(p *corev1.Pod, job types.UID) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.UID == job
}

func jobFailed(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// compareJobs orders Jobs by task, then index.
func compareJobs(a, b map[string]string) int {
	if c := strings.Compare(a[v1alpha1.LabelTask], b[v1alpha1.LabelTask]); c != 0 {
		return c
	}
	ai, _ := strconv.Atoi(a[v1alpha1.LabelIndex])
	bi, _ := strconv.Atoi(b[v1alpha1.LabelIndex])
	return ai - bi
}

// streamLog copies one pod's log, line by line, prefixed with its job.
func streamLog(ctx context.Context, c *clients, job string, p *corev1.Pod, follow bool, lines *lineWriter) {
	lines.printf("[%s] --- pod %s (%s) ---\n", job, p.Name, p.Status.Phase)
	rc, err := c.kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Follow: follow}).Stream(ctx)
	if err != nil {
		lines.printf("[%s] (no log: %s)\n", job, Explain(err))
		return
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines.printf("[%s] %s\n", job, sc.Text())
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		lines.printf("[%s] (log ended: %v)\n", job, err)
	}
}

// lineWriter keeps the lines of concurrent logs whole.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, format, args...)
}

func newRetryCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "retry NAME",
		Short: "Run the failed jobs of a Failed Execution again",
		Args:  func(_ *cobra.Command, args []string) error { return oneName(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.clients()
			if err != nil {
				return err
			}
			if err := requireSubresource(c, "executions/retry", "retry"); err != nil {
				return err
			}
			// Do, not DoRaw: its errors carry the server's Status (403, 409).
			var e v1alpha1.Execution
			err = c.executions.ExecutionV1alpha1().RESTClient().Post().Namespace(c.namespace).
				Resource("executions").Name(args[0]).SubResource("retry").
				SetHeader("Content-Type", "application/json").Body([]byte("{}")).Do(cmd.Context()).Into(&e)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "execution.execution.kubegene.io/%s retried (attempt %d)\n", args[0], max(e.Status.Attempts, 1))
			return nil
		},
	}
}

// requireSubresource says clearly when the server is too old for a command.
func requireSubresource(c *clients, resource, what string) error {
	list, err := c.executions.Discovery().ServerResourcesForGroupVersion(v1alpha1.SchemeGroupVersion.String())
	if err != nil {
		return err
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return nil
		}
	}
	return fmt.Errorf("the server does not support %s: %s has no %s (upgrade execution-apiserver)", what, v1alpha1.SchemeGroupVersion, resource)
}

func newSuspendCommand(o *options, suspend bool) *cobra.Command {
	verb, done := "suspend", "suspended"
	short := "Stop creating new Jobs for an Execution; running Jobs finish"
	if !suspend {
		verb, done = "resume", "resumed"
		short = "Let a suspended Execution create Jobs again"
	}
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  func(_ *cobra.Command, args []string) error { return oneName(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.clients()
			if err != nil {
				return err
			}
			patch := []byte(fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend))
			_, err = c.executions.ExecutionV1alpha1().Executions(c.namespace).Patch(cmd.Context(), args[0], types.MergePatchType, patch,
				metav1.PatchOptions{FieldValidation: metav1.FieldValidationStrict})
			if apierrors.IsBadRequest(err) && strings.Contains(err.Error(), "unknown field") {
				return fmt.Errorf("the server does not support %s: it does not know spec.suspend (upgrade execution-apiserver)", verb)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "execution.execution.kubegene.io/%s %s\n", args[0], done)
			return nil
		},
	}
}
