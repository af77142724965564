package plugin

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/progress"
)

// TaskSummary is one task of an Execution as the plugin shows it.
type TaskSummary struct {
	Name     string
	Image    string
	WaitsFor []string // "target (type)"
	progress.Counts
	// FailedJobs lists the first failed jobs with their messages, as stored.
	FailedJobs []FailedJob
}

// FailedJob is a failed job and why it failed.
type FailedJob struct {
	Name, Message string
}

// Summary is what the plugin shows of an Execution: its state and each
// task's progress, read from the compact status through pkg/progress, the
// same reading the server renders vertices with.
type Summary struct {
	Namespace, Name string
	Phase           v1alpha1.ExecutionPhase
	Message         string
	Suspended       bool
	Attempts        int32
	Created         time.Time
	Started         *time.Time
	Finished        *time.Time
	Tasks           []TaskSummary
	Total           progress.Counts
}

// Summarize reads an Execution.
func Summarize(e *v1alpha1.Execution) Summary {
	s := Summary{
		Namespace: e.Namespace, Name: e.Name, Phase: e.Status.Phase, Message: e.Status.Message,
		Suspended: e.Spec.Suspend != nil && *e.Spec.Suspend, Attempts: max(e.Status.Attempts, 1),
		Created: e.CreationTimestamp.Time,
	}
	if s.Phase == "" {
		s.Phase = v1alpha1.PhasePending
	}
	if t := e.Status.StartedAt; t != nil {
		s.Started = &t.Time
	}
	if t := e.Status.FinishedAt; t != nil {
		s.Finished = &t.Time
	}
	stored := map[string]*progress.Task{}
	messages := map[string][]v1alpha1.JobMessage{}
	for i := range e.Status.Tasks {
		ts := &e.Status.Tasks[i]
		p := progress.ParseTask(ts.Created, ts.Succeeded, ts.Failed)
		p.ParseRetrying(ts.Retrying)
		for _, m := range ts.Messages {
			p.SetMessage(int(m.Index), m.Message)
		}
		stored[ts.Name] = &p
		messages[ts.Name] = ts.Messages
	}
	for i, gt := range v1alpha1.GraphTasks(&e.Spec) {
		task := &e.Spec.Tasks[i]
		ts := TaskSummary{Name: gt.Name, Image: task.Image, Counts: stored[gt.Name].Counts(gt.Jobs)}
		for _, d := range gt.Dependencies {
			ts.WaitsFor = append(ts.WaitsFor, fmt.Sprintf("%s (%s)", d.Target, d.Type))
		}
		if p := stored[gt.Name]; p != nil {
			p.Failed.Each(func(j int) bool {
				ts.FailedJobs = append(ts.FailedJobs, FailedJob{Name: dag.JobName(e.Name, gt.Name, j), Message: p.JobMessage(j)})
				return len(ts.FailedJobs) < maxFailedShown
			})
		}
		s.Tasks = append(s.Tasks, ts)
		s.Total.Jobs += ts.Jobs
		s.Total.Running += ts.Running
		s.Total.Succeeded += ts.Succeeded
		s.Total.Failed += ts.Failed
	}
	return s
}

// maxFailedShown bounds the failed jobs listed per task.
const maxFailedShown = 10

// barWidth is the width of a progress bar, in cells.
const barWidth = 30

// bar draws done (succeeded), failed and running jobs of total as
// "[####xx>>........]": '#' succeeded, 'x' failed, '>' running.
func bar(c progress.Counts) string {
	if c.Jobs == 0 {
		return "[" + strings.Repeat(".", barWidth) + "]"
	}
	// A failed or running job always shows, even when it is less than a
	// cell's worth of the task.
	cells := func(n int) int {
		if n > 0 {
			return max(n*barWidth/c.Jobs, 1)
		}
		return 0
	}
	failed, running := cells(c.Failed), cells(c.Running)
	done := min(c.Succeeded*barWidth/c.Jobs, barWidth-failed-running)
	rest := max(barWidth-done-failed-running, 0)
	return "[" + strings.Repeat("#", done) + strings.Repeat("x", failed) + strings.Repeat(">", running) + strings.Repeat(".", rest) + "]"
}

func percent(c progress.Counts) int {
	if c.Jobs == 0 {
		return 0
	}
	return (c.Succeeded + c.Failed) * 100 / c.Jobs
}

// elapsed is how long the Execution has run at now (until it finished).
func (s Summary) elapsed(now time.Time) time.Duration {
	if s.Started == nil {
		return 0
	}
	end := now
	if s.Finished != nil {
		end = *s.Finished
	}
	return end.Sub(*s.Started).Round(time.Second)
}

// WriteProgress writes the live view of watch: the Execution's line, then
// one progress bar per task.
func WriteProgress(w io.Writer, s Summary, now time.Time) {
	elapsed := s.elapsed(now)
	rate := ""
	if secs := elapsed.Seconds(); secs >= 1 {
		rate = fmt.Sprintf(", %.1f jobs/s", float64(s.Total.Succeeded+s.Total.Failed)/secs)
	}
	state := string(s.Phase)
	if s.Suspended && s.Finished == nil {
		state += " (suspended)"
	}
	fmt.Fprintf(w, "%s/%s  %s  %d/%d jobs  elapsed %s%s\n", s.Namespace, s.Name, state, s.Total.Succeeded, s.Total.Jobs, elapsed, rate)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range s.Tasks {
		fmt.Fprintf(tw, "  %s\t%s\t%3d%%\tdone %d\tfailed %d\trunning %d\tpending %d\n",
			t.Name, bar(t.Counts), percent(t.Counts), t.Succeeded, t.Failed, t.Running, t.Pending())
	}
	_ = tw.Flush()
	if s.Message != "" {
		fmt.Fprintf(w, "  %s\n", s.Message)
	}
}

// WriteLine writes the one-line form of the view, for output that is not a
// terminal (a log, a pipe): one line per change.
func WriteLine(w io.Writer, s Summary, now time.Time) {
	parts := make([]string, len(s.Tasks))
	for i, t := range s.Tasks {
		parts[i] = fmt.Sprintf("%s %d/%d", t.Name, t.Succeeded, t.Jobs)
		if t.Failed > 0 {
			parts[i] += fmt.Sprintf(" (%d failed)", t.Failed)
		}
	}
	line := fmt.Sprintf("%s %s %d/%d [%s] elapsed %s", s.Name, s.Phase, s.Total.Succeeded, s.Total.Jobs, strings.Join(parts, ", "), s.elapsed(now))
	if s.Suspended && s.Finished == nil {
		line += " suspended"
	}
	if s.Message != "" {
		line += ": " + s.Message
	}
	fmt.Fprintln(w, line)
}

// WriteDescribe writes the summary a person reads instead of YAML.
func WriteDescribe(w io.Writer, e *v1alpha1.Execution, now time.Time) {
	s := Summarize(e)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	field("Name", s.Name)
	field("Namespace", s.Namespace)
	field("Phase", string(s.Phase))
	if s.Message != "" {
		field("Message", s.Message)
	}
	field("Suspended", fmt.Sprint(s.Suspended))
	field("Failure policy", string(orDefault(e.Spec.FailurePolicy, v1alpha1.FailFast)))
	if d := e.Spec.ActiveDeadlineSeconds; d != nil {
		field("Active deadline", (time.Duration(*d) * time.Second).String())
	}
	if ttl := e.Spec.TTLSecondsAfterFinished; ttl != nil {
		field("TTL after finished", (time.Duration(*ttl) * time.Second).String())
	}
	field("Attempts", fmt.Sprint(s.Attempts))
	field("Created", s.Created.UTC().Format(time.RFC3339))
	if s.Started != nil {
		field("Started", s.Started.UTC().Format(time.RFC3339))
	}
	if s.Finished != nil {
		field("Finished", s.Finished.UTC().Format(time.RFC3339))
	}
	field("Elapsed", s.elapsed(now).String())
	field("Jobs", fmt.Sprintf("%d (%d succeeded, %d failed, %d running, %d pending)",
		s.Total.Jobs, s.Total.Succeeded, s.Total.Failed, s.Total.Running, s.Total.Pending()))
	_ = tw.Flush()

	fmt.Fprintln(w, "Tasks:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tIMAGE\tJOBS\tWAITS FOR\tSUCCEEDED\tFAILED\tRUNNING\tPENDING")
	for _, t := range s.Tasks {
		waits := "-"
		if len(t.WaitsFor) > 0 {
			waits = strings.Join(t.WaitsFor, ", ")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\n", t.Name, t.Image, t.Jobs, waits, t.Succeeded, t.Failed, t.Running, t.Pending())
	}
	_ = tw.Flush()

	var failed []FailedJob
	for _, t := range s.Tasks {
		failed = append(failed, t.FailedJobs...)
	}
	if len(failed) > 0 {
		fmt.Fprintln(w, "Failed jobs:")
		for _, f := range failed {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Message)
		}
	}
	var conds []string
	for _, c := range e.Status.Conditions {
		if c.Type == v1alpha1.ConditionVerticesRendered {
			continue
		}
		conds = append(conds, fmt.Sprintf("  %s=%s (%s)", c.Type, c.Status, c.Reason))
	}
	if len(conds) > 0 {
		fmt.Fprintln(w, "Conditions:")
		fmt.Fprintln(w, strings.Join(conds, "\n"))
	}
	if meta.IsStatusConditionFalse(e.Status.Conditions, v1alpha1.ConditionVerticesRendered) {
		fmt.Fprintln(w, "Vertices: too many to show; use `kubectl execution graph --level task`")
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
