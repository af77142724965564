package plugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

func newWatchCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "watch NAME",
		Short: "Show an Execution's progress live until it finishes",
		Long: `Show an Execution's progress live until it finishes: a progress bar per task
(done, failed, running, pending), elapsed time and rate, phase and message.
On a terminal the view is redrawn in place; otherwise one line is printed per
change. Exits 0 when the Execution succeeds, 2 when it fails.`,
		Args: func(_ *cobra.Command, args []string) error { return oneName(args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.clients()
			if err != nil {
				return err
			}
			return watchExecution(cmd.Context(), c, args[0], newScreen(o.Out))
		},
	}
}

// screen shows successive views: redrawn in place on a terminal, appended
// as lines elsewhere.
type screen struct {
	out      io.Writer
	terminal bool
	lines    int // lines of the last view, to redraw over
	last     string
}

func newScreen(out io.Writer) *screen {
	f, ok := out.(*os.File)
	return &screen{out: out, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

func (s *screen) show(sum Summary, now time.Time) {
	var b bytes.Buffer
	if s.terminal {
		WriteProgress(&b, sum, now)
	} else {
		WriteLine(&b, sum, now)
	}
	view := b.String()
	if !s.terminal {
		// One line per change: the elapsed time alone is no change.
		timeless := sum
		timeless.Started, timeless.Finished = nil, nil
		var k bytes.Buffer
		WriteLine(&k, timeless, now)
		if key := k.String(); key != s.last {
			s.last = key
			_, _ = io.WriteString(s.out, view)
		}
		return
	}
	if s.lines > 0 {
		fmt.Fprintf(s.out, "\x1b[%dA\x1b[J", s.lines) // up, and clear below
	}
	_, _ = io.WriteString(s.out, view)
	s.lines = strings.Count(view, "\n")
}

// watchExecution shows the Execution until it is Succeeded (nil) or Failed
// (executionFailedError), following a watch of it by name, which is
// re-established when the server closes it.
func watchExecution(ctx context.Context, c *clients, name string, scr *screen) error {
	client := c.executions.ExecutionV1alpha1().Executions(c.namespace)
	e, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		scr.show(Summarize(e), time.Now())
		switch e.Status.Phase {
		case v1alpha1.PhaseSucceeded:
			return nil
		case v1alpha1.PhaseFailed:
			return &executionFailedError{name: name, message: e.Status.Message}
		}
		w, err := client.Watch(ctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
			ResourceVersion: e.ResourceVersion,
		})
		if err != nil {
			return err
		}
		e, err = follow(ctx, w, e, scr, tick.C)
		w.Stop()
		if err != nil {
			return err
		}
		if e == nil {
			// The watch ended or expired: read the Execution again.
			if e, err = client.Get(ctx, name, metav1.GetOptions{}); err != nil {
				return err
			}
		}
	}
}

// follow shows each change until the Execution finishes (returning it) or
// the watch ends (returning nil); ticks refresh the elapsed time.
func follow(ctx context.Context, w watch.Interface, e *v1alpha1.Execution, scr *screen, tick <-chan time.Time) (*v1alpha1.Execution, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick:
			scr.show(Summarize(e), time.Now())
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, nil
			}
			switch ev.Type {
			case watch.Deleted:
				return nil, fmt.Errorf("execution %s was deleted", e.Name)
			case watch.Error:
				return nil, nil
			}
			next, ok := ev.Object.(*v1alpha1.Execution)
			if !ok {
				continue
			}
			e = next
			if e.Status.Phase == v1alpha1.PhaseSucceeded || e.Status.Phase == v1alpha1.PhaseFailed {
				return e, nil
			}
			scr.show(Summarize(e), time.Now())
		}
	}
}
