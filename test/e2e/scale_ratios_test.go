package e2e

import (
	"math"
	"os"
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
	cmp := scaleCompare(sandwich)
	if !near(cmp.wall, 1.1) || !near(cmp.first, 0.9) {
		t.Errorf("window,exec,window: wall %v, first %v; want 1.1 and 0.9 (against the windows' mean)", cmp.wall, cmp.first)
	}
	if w := cmp.means[scaleWindow]; w.runs != 2 || w.wall != 110*time.Second || w.firstK != 33*time.Second {
		t.Errorf("window,exec,window: the windows' mean is %+v; want 2 runs, 110 s, 33 s", w)
	}
	if got := cmp.runs(scaleAll, scaleWindow); got != 2 {
		t.Errorf("window,exec,window: %d plain runs counted; want 2", got)
	}
	params := scaleParams{jobs: 10, window: 300, first: 5}
	table := scaleTable(params, sandwich, &cmp)
	for _, want := range []string{"3. window 300", "means of 1 × Execution, 2 × window 300", "1.100 (goal ≤ 1.00: NOT met)", "0.900 (goal ≤ 1.00: met)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// While a run goes on, its tables carry no verdict.
	if partial := scaleTable(params, sandwich[:2], nil); strings.Contains(partial, "goal") {
		t.Errorf("a table printed while the run goes on has a verdict:\n%s", partial)
	}

	// Two Executions against one all-at-once and one window: the better
	// plain wall is all's, the first completions are the window's.
	mixed := []scaleResult{run(scaleExec, 80, 40), run(scaleAll, 90, 60), run(scaleWindow, 100, 20), run(scaleExec, 100, 20)}
	if c := scaleCompare(mixed); !near(c.wall, 1.0) || !near(c.first, 1.5) {
		t.Errorf("exec,all,window,exec: wall %v, first %v; want 1.0 (90 / 90) and 1.5 (30 / 20)", c.wall, c.first)
	}

	// The all-at-once variant alone: no first-completions ratio.
	if c := scaleCompare([]scaleResult{run(scaleExec, 50, 10), run(scaleAll, 100, 20)}); !near(c.wall, 0.5) || !math.IsNaN(c.first) {
		t.Errorf("exec,all: wall %v, first %v; want 0.5 and NaN", c.wall, c.first)
	}
	// The dressed window is no plain variant of the goals: it is compared
	// on its own, by wall and by the cluster's CPU per Job.
	withCPU := func(r scaleResult, clusterCPU float64) scaleResult {
		r.cpu.byComponent = []float64{clusterCPU}
		return r
	}
	dressed := []scaleResult{withCPU(run(scaleExec, 120, 30), 600), withCPU(run(scaleWindow, 100, 20), 400), withCPU(run(scaleDressed, 80, 10), 500)}
	if c := scaleCompare(dressed); !near(c.wall, 1.2) || !near(c.first, 1.5) || !near(c.dressedWall, 1.5) || !near(c.dressedCPU, 1.2) {
		t.Errorf("exec,window,dressed: wall %v, first %v, dressed wall %v, dressed CPU %v; want 1.2 (against the window, not the faster dressed), 1.5, 1.5 and 1.2",
			c.wall, c.first, c.dressedWall, c.dressedCPU)
	}
	if c := scaleCompare(mixed); !math.IsNaN(c.dressedWall) || !math.IsNaN(c.dressedCPU) {
		t.Errorf("without a dressed window: dressed wall %v, CPU %v; want NaN", c.dressedWall, c.dressedCPU)
	}
	table = scaleTable(params, dressed, new(scaleCompare(dressed)))
	for _, want := range []string{"3. window 300, dressed", "exec / dressed window (no goal): wall 1.500, cluster CPU per Job 1.200",
		"cluster CPU per Job completed, means (ms): Execution 60000.0, window 300 40000.0, window 300, dressed 50000.0"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// A variant whose CPU was not read shows a dash, not NaN.
	if table := scaleTable(params, sandwich, &cmp); strings.Contains(table, "NaN") || !strings.Contains(table, "means (ms): Execution –, window 300 –") {
		t.Errorf("CPU not read: want dashes, no NaN:\n%s", table)
	}

	// No Execution: no ratio.
	if c := scaleCompare([]scaleResult{run(scaleWindow, 100, 20)}); !math.IsNaN(c.wall) || !math.IsNaN(c.first) || c.runs(scaleExec) != 0 {
		t.Errorf("window alone: wall %v, first %v, %d Execution runs; want NaN, NaN and 0", c.wall, c.first, c.runs(scaleExec))
	}
}

// TestScaleProcRSSReadsThisProcess checks the /proc reading that the scale
// benchmark samples RSS with, on this process.
func TestScaleProcRSSReadsThisProcess(t *testing.T) {
	if rss, err := scaleProcRSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Errorf("RSS %.0f bytes, %v; want at least 1 MiB", rss, err)
	}
}
