package e2e

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestScaleRatiosCompareMeansOfRepeatedRuns checks the scale benchmark's
// arithmetic: a variant run more than once counts with the mean of its
// runs, the wall ratio takes the better plain variant, and a ratio whose
// variants did not run is NaN.
func TestScaleRatiosCompareMeansOfRepeatedRuns(t *testing.T) {
	run := func(v scaleVariant, wall, first float64) scaleResult {
		return scaleResult{variant: v, name: v.name(300), jobs: 10,
			wall: time.Duration(wall * float64(time.Second)), firstK: time.Duration(first * float64(time.Second))}
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }

	// window, exec, window: the windows' mean (110 s, 33 s) is compared.
	sandwich := []scaleResult{run(scaleWindow, 100, 30), run(scaleExec, 121, 29.7), run(scaleWindow, 120, 36)}
	wall, first := scaleRatios(sandwich)
	if !near(wall, 1.1) || !near(first, 0.9) {
		t.Errorf("window,exec,window: wall %v, first %v; want 1.1 and 0.9 (against the windows' mean)", wall, first)
	}
	table := scaleTable(scaleParams{jobs: 10, window: 300, first: 5}, sandwich, wall, first)
	for _, want := range []string{"3. window 300", "means of 1 × Execution, 2 × window 300", "1.100 (goal ≤ 1.00: NOT met)", "0.900 (goal ≤ 1.00: met)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	// Two Executions against one all-at-once and one window: the better
	// plain wall is all's, the first completions are the window's.
	mixed := []scaleResult{run(scaleExec, 80, 40), run(scaleAll, 90, 60), run(scaleWindow, 100, 20), run(scaleExec, 100, 20)}
	if wall, first := scaleRatios(mixed); !near(wall, 1.0) || !near(first, 1.5) {
		t.Errorf("exec,all,window,exec: wall %v, first %v; want 1.0 (90 / 90) and 1.5 (30 / 20)", wall, first)
	}

	// The all-at-once variant alone: no first-completions ratio.
	if wall, first := scaleRatios([]scaleResult{run(scaleExec, 50, 10), run(scaleAll, 100, 20)}); !near(wall, 0.5) || !math.IsNaN(first) {
		t.Errorf("exec,all: wall %v, first %v; want 0.5 and NaN", wall, first)
	}
	// No Execution: no ratio.
	if wall, first := scaleRatios([]scaleResult{run(scaleWindow, 100, 20)}); !math.IsNaN(wall) || !math.IsNaN(first) {
		t.Errorf("window alone: wall %v, first %v; want NaN and NaN", wall, first)
	}
}
