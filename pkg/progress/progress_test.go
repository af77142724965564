package progress

import "testing"

func TestJobPhaseAndMessage(t *testing.T) {
	task := ParseTask("0-4", "0,1", "2,3")
	task.SetMessage(3, "BackoffLimitExceeded")
	tests := []struct {
		index   int
		phase   Phase
		message string
	}{
		{0, Succeeded, MessageJobSucceeded},
		{1, Succeeded, MessageJobSucceeded},
		{2, Failed, MessageJobFailed}, // no message stored: the default
		{3, Failed, "BackoffLimitExceeded"},
		{4, Running, ""},
		{5, Pending, ""},
	}
	for _, tc := range tests {
		if got := task.JobPhase(tc.index); got != tc.phase {
			t.Errorf("JobPhase(%d) = %s, want %s", tc.index, got, tc.phase)
		}
		if got := task.JobMessage(tc.index); got != tc.message {
			t.Errorf("JobMessage(%d) = %q, want %q", tc.index, got, tc.message)
		}
	}
	if !task.Finished(2) || task.Finished(4) {
		t.Errorf("Finished(2), Finished(4) = %v, %v; want true, false", task.Finished(2), task.Finished(4))
	}
	if got, want := task.Counts(7), (Counts{Jobs: 7, Running: 1, Succeeded: 2, Failed: 2}); got != want {
		t.Errorf("Counts(7) = %+v, want %+v", got, want)
	}
	if got := task.Counts(7).Pending(); got != 2 {
		t.Errorf("Pending() = %d, want 2", got)
	}
}

// A task without stored progress reads as nothing started.
func TestNilTask(t *testing.T) {
	var task *Task
	if task.JobPhase(0) != Pending || task.JobMessage(0) != "" || task.Finished(0) || task.Active() != 0 {
		t.Errorf("a nil task reads %s %q %v %d, want Pending, no message, unfinished, none active",
			task.JobPhase(0), task.JobMessage(0), task.Finished(0), task.Active())
	}
	if got, want := task.Counts(3), (Counts{Jobs: 3}); got != want || got.Pending() != 3 {
		t.Errorf("Counts(3) = %+v (pending %d), want %+v", got, got.Pending(), want)
	}
}

// Sets that do not parse read as empty instead of failing the read.
func TestParseTaskIgnoresMalformedSets(t *testing.T) {
	task := ParseTask("0-2", "x", "2-1")
	if task.Created.Count() != 3 || task.Succeeded.Count() != 0 || task.Failed.Count() != 0 {
		t.Errorf("created %d, succeeded %d, failed %d; want 3, 0, 0", task.Created.Count(), task.Succeeded.Count(), task.Failed.Count())
	}
}

func TestPhaseRule(t *testing.T) {
	tests := []struct {
		name   string
		counts Counts
		want   Phase
	}{
		{"nothing started", Counts{Jobs: 3}, Pending},
		{"one running", Counts{Jobs: 3, Running: 1}, Running},
		{"some succeeded, none running", Counts{Jobs: 3, Succeeded: 1}, Running},
		{"all succeeded", Counts{Jobs: 3, Succeeded: 3}, Succeeded},
		{"a failure while others run", Counts{Jobs: 3, Running: 1, Succeeded: 1, Failed: 1}, Failed},
		{"a failure, the rest succeeded", Counts{Jobs: 2, Succeeded: 1, Failed: 1}, Failed},
	}
	for _, tc := range tests {
		if got := tc.counts.Phase(); got != tc.want {
			t.Errorf("%s: Phase() = %s, want %s", tc.name, got, tc.want)
		}
	}
}
