package controller

import (
	"testing"

	"k8s.io/component-base/metrics/legacyregistry"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// gathered reads the controller's metrics as /metrics serves them, from
// legacyregistry: counters and gauges by name and label value, histograms
// by their sample count per label value.
func gathered(t *testing.T) (jobsCreated float64, latencies map[string]uint64, phases map[string]float64, queueAdds float64) {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	phases, latencies = map[string]float64{}, map[string]uint64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "kubegene_controller_jobs_created_total":
				jobsCreated = m.GetCounter().GetValue()
			case "kubegene_controller_dependency_to_start_seconds":
				latencies[labels["dependency"]] = m.GetHistogram().GetSampleCount()
			case "kubegene_controller_executions":
				phases[labels["phase"]] = m.GetGauge().GetValue()
			case "workqueue_adds_total":
				if labels["name"] == "execution" {
					queueAdds = m.GetCounter().GetValue()
				}
			}
		}
	}
	return jobsCreated, latencies, phases, queueAdds
}

// Not parallel: the metrics are process-wide.
func TestMetrics(t *testing.T) {
	created0, latencies0, _, _ := gathered(t)

	f := newFixture(t, nil, newExecution("exec-metrics", task("a", 2), task("b", 3, whole("a")), task("c", 3, iterate("b"))))
	f.run()
	f.waitCreated(2)
	f.waitTask("exec-metrics", "a", "0-1", "", "")
	// The gauge moves once the controller sees its own status write, which
	// may come after the write the fixture saw.
	f.waitFor("gauge moved to Running, and work queue adds", func() bool {
		_, _, phases, adds := gathered(t)
		return phases["Running"] == 1 && adds > 0
	})
	f.succeed("exec-metrics.a.0", "exec-metrics.a.1")
	f.waitCreated(5)
	f.succeed("exec-metrics.b.0", "exec-metrics.b.1", "exec-metrics.b.2")
	f.waitCreated(8)

	created, latencies, _, _ := gathered(t)
	if d := created - created0; d != 8 {
		t.Errorf("jobs_created_total grew by %v, want 8", d)
	}
	// Roots have no dependency; b's 3 jobs became ready through a whole
	// dependency, c's 3 through an iterate one.
	if whole, iter := latencies["whole"]-latencies0["whole"], latencies["iterate"]-latencies0["iterate"]; whole != 3 || iter != 3 {
		t.Errorf("dependency_to_start_seconds observed whole %d, iterate %d times; want 3 and 3", whole, iter)
	}

	f.succeed("exec-metrics.c.0", "exec-metrics.c.1", "exec-metrics.c.2")
	f.waitStatus("exec-metrics", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	f.waitFor("gauge moved to Succeeded", func() bool {
		_, _, phases, _ := gathered(t)
		return phases["Running"] == 0 && phases["Succeeded"] == 1
	})
}
