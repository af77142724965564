package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// Reason of the JobWarning condition and event.
const reasonCreateWarning = "CreateWarning"

// maxWarnings bounds the distinct warnings an Execution's state remembers.
const maxWarnings = 16

// ignoredWarning is the warning kube-apiserver sends for every Job whose
// name has dots, which every Job of an Execution has: it says nothing
// about one Execution.
const ignoredWarning = "metadata.name: this is used in Pod names and hostnames"

type warningsKey struct{}

// warnings gathers the warnings kube-apiserver sends with the answer to
// one request (e.g. Pod Security's "would violate PodSecurity" on a Job
// whose pods it will refuse).
type warnings struct {
	mu    sync.Mutex
	texts []string
}

// WithWarnings returns a context whose requests' warnings are gathered,
// when the client's warning handler calls CollectWarning, and a function
// that returns them.
func WithWarnings(ctx context.Context) (context.Context, func() []string) {
	w := &warnings{}
	return context.WithValue(ctx, warningsKey{}, w), w.take
}

// CollectWarning hands a warning of a request made with ctx to the
// controller, if the request is one of its Job creations; it reports
// whether it did. The server's client warning handler calls it.
func CollectWarning(ctx context.Context, text string) bool {
	w, ok := ctx.Value(warningsKey{}).(*warnings)
	if !ok {
		return false
	}
	w.mu.Lock()
	w.texts = append(w.texts, text)
	w.mu.Unlock()
	return true
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.texts
}

// recordWarnings shows the warnings of a Job's creation: each distinct one
// once as a Warning event, and the latest in condition JobWarning.
func (c *Controller) recordWarnings(e *v1alpha1.Execution, s *executionState, job string, texts []string) {
	for _, text := range texts {
		if strings.HasPrefix(text, ignoredWarning) || s.warned[text] {
			continue
		}
		if len(s.warned) < maxWarnings {
			if s.warned == nil {
				s.warned = map[string]bool{}
			}
			s.warned[text] = true
		}
		s.warning = fmt.Sprintf("creating job %s, kube-apiserver warned: %s", job, text)
		c.recorder.Event(executionRef(e), corev1.EventTypeWarning, reasonCreateWarning, s.warning)
	}
}

// setWarningCondition says what kube-apiserver warned about when it
// created the Execution's Jobs; it stays for the attempt.
func (s *executionState) setWarningCondition(st *v1alpha1.ExecutionStatus, generation int64, stamp metav1.Time) {
	if s.warning == "" {
		return
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionJobWarning, Status: metav1.ConditionTrue, Reason: reasonCreateWarning,
		Message: s.warning, ObservedGeneration: generation, LastTransitionTime: stamp,
	})
}
