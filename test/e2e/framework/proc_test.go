package framework

import (
	"testing"
	"time"
)

// TestProcTimesReadsThisProcess checks the /proc reading that the scale
// benchmark samples the stack with, on this process: its start time is
// before now and after the machine's boot, and its CPU time grows with
// work.
func TestProcTimesReadsThisProcess(t *testing.T) {
	cpu0, started, err := ProcTimes("self")
	if err != nil {
		t.Fatal(err)
	}
	boot, err := bootTime()
	if err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().Unix())
	if started < boot || started > now+1 {
		t.Errorf("started %.0f: not between boot %.0f and now %.0f", started, boot, now)
	}
	sum := 0
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
		sum++
	}
	cpu1, started1, err := ProcTimes("self")
	if err != nil {
		t.Fatal(err)
	}
	if cpu1 <= cpu0 || started1 != started {
		t.Errorf("after %d spins: CPU %.2f → %.2f s, start %.0f → %.0f; want more CPU, the same start", sum, cpu0, cpu1, started, started1)
	}
}
