package execution

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Results of a read's attempt to serve an Execution's status.vertices.
const (
	renderRendered = "rendered" // computed for this read
	renderReused   = "reused"   // served from an earlier read's render
	renderOmitted  = "omitted"  // left out: over the object's limits or the list budget
)

var (
	vertexRenders = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "kubegene",
		Subsystem:      "apiserver",
		Name:           "vertex_renders_total",
		Help:           "Executions read with status.vertices, by result: rendered, reused from the render cache, or omitted. Table, metadata-only and controller reads render nothing and are not counted.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})

	registerMetricsOnce sync.Once
)

// registerMetrics registers the registry's metrics once per process;
// several servers (in tests) share them.
func registerMetrics() {
	registerMetricsOnce.Do(func() {
		legacyregistry.MustRegister(vertexRenders)
	})
}
