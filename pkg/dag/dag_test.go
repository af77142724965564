package dag

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"

	"kubegene.io/kubegene/test/seed"
)

// dep is shorthand for a Dependency in test tables.
func dep(target string, typ DependencyType) Dependency {
	return Dependency{Target: target, Type: typ}
}

func mustBuild(t testing.TB, execution string, tasks []Task) *Graph {
	t.Helper()
	g, problems := Build(execution, tasks)
	if len(problems) > 0 || g == nil {
		t.Fatalf("Build(%q) = %v, problems %+v; want a graph", execution, g, problems)
	}
	return g
}

// jobRef parses a job name of g, failing the test if it is not one.
func jobRef(t testing.TB, g *Graph, name string) (int, int) {
	t.Helper()
	task, index, ok := g.ParseJobName(name)
	if !ok {
		t.Fatalf("%q is not a job of %q", name, g.Execution())
	}
	return task, index
}

func childNames(g *Graph, task, index int) []string {
	names := []string{}
	g.Children(task, index, func(ct, ci int) bool {
		names = append(names, g.JobName(ct, ci))
		return true
	})
	return names
}

func parentNames(g *Graph, task, index int) []string {
	names := []string{}
	g.Parents(task, index, func(pt, pi int) bool {
		names = append(names, g.JobName(pt, pi))
		return true
	})
	return names
}

// testState is a State backed by plain slices.
type testState struct {
	done  [][]bool
	count []int
}

func newTestState(g *Graph) *testState {
	s := &testState{done: make([][]bool, g.NumTasks()), count: make([]int, g.NumTasks())}
	for t := range s.done {
		s.done[t] = make([]bool, g.Jobs(t))
	}
	return s
}

func (s *testState) Succeeded(task, index int) bool { return s.done[task][index] }
func (s *testState) SucceededCount(task int) int    { return s.count[task] }

// succeed records a success and reports whether it was new.
func (s *testState) succeed(task, index int) bool {
	if s.done[task][index] {
		return false
	}
	s.done[task][index] = true
	s.count[task]++
	return true
}

// canonical returns the task structure of two examples of the user guide;
// their children are the guide's, in test/seed.
func canonical() map[string][]Task {
	return map[string][]Task{
		"exec-whole": {
			{Name: "a", Jobs: 2},
			{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Whole)}},
		},
		"exec-iterate": {
			{Name: "a", Jobs: 2},
			{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
		},
	}
}

func TestJobRelations(t *testing.T) {
	examples := canonical()
	tests := []struct {
		name      string
		execution string
		tasks     []Task
		children  map[string][]string // job -> children; jobs not listed have none
		parents   map[string][]string // job -> parents; jobs not listed have none
		order     []string
		roots     []string
	}{
		{
			name:      "whole",
			execution: "exec-whole",
			tasks:     examples["exec-whole"],
			children:  seed.Children,
			parents: map[string][]string{
				"exec-whole.b.0": {"exec-whole.a.0", "exec-whole.a.1"},
				"exec-whole.b.1": {"exec-whole.a.0", "exec-whole.a.1"},
			},
			order: []string{"a", "b"},
			roots: []string{"a"},
		},
		{
			name:      "iterate",
			execution: "exec-iterate",
			tasks:     examples["exec-iterate"],
			children:  seed.Children,
			parents: map[string][]string{
				"exec-iterate.b.0": {"exec-iterate.a.0"},
				"exec-iterate.b.1": {"exec-iterate.a.1"},
			},
			order: []string{"a", "b"},
			roots: []string{"a"},
		},
		{
			// a -> b, c -> d; listed out of order to exercise the
			// topological order.
			name:      "diamond",
			execution: "e",
			tasks: []Task{
				{Name: "d", Jobs: 2, Dependencies: []Dependency{dep("b", Iterate), dep("c", Whole)}},
				{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
				{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("a", Whole)}},
				{Name: "a", Jobs: 2},
			},
			children: map[string][]string{
				"e.a.0": {"e.b.0", "e.c.0"},
				"e.a.1": {"e.b.1", "e.c.0"},
				"e.b.0": {"e.d.0"},
				"e.b.1": {"e.d.1"},
				"e.c.0": {"e.d.0", "e.d.1"},
			},
			parents: map[string][]string{
				"e.b.0": {"e.a.0"},
				"e.b.1": {"e.a.1"},
				"e.c.0": {"e.a.0", "e.a.1"},
				"e.d.0": {"e.b.0", "e.c.0"},
				"e.d.1": {"e.b.1", "e.c.0"},
			},
			order: []string{"a", "b", "c", "d"},
			roots: []string{"a"},
		},
		{
			name:      "multiple dependencies and roots",
			execution: "multi-dep",
			tasks: []Task{
				{Name: "align-reads", Jobs: 3},
				{Name: "ref", Jobs: 1},
				{Name: "call-variants", Jobs: 3, Dependencies: []Dependency{dep("ref", Whole), dep("align-reads", Iterate)}},
				{Name: "report", Jobs: 1, Dependencies: []Dependency{dep("call-variants", Whole), dep("ref", Whole)}},
			},
			children: map[string][]string{
				"multi-dep.align-reads.0":   {"multi-dep.call-variants.0"},
				"multi-dep.align-reads.1":   {"multi-dep.call-variants.1"},
				"multi-dep.align-reads.2":   {"multi-dep.call-variants.2"},
				"multi-dep.ref.0":           {"multi-dep.call-variants.0", "multi-dep.call-variants.1", "multi-dep.call-variants.2", "multi-dep.report.0"},
				"multi-dep.call-variants.0": {"multi-dep.report.0"},
				"multi-dep.call-variants.1": {"multi-dep.report.0"},
				"multi-dep.call-variants.2": {"multi-dep.report.0"},
			},
			parents: map[string][]string{
				"multi-dep.call-variants.0": {"multi-dep.ref.0", "multi-dep.align-reads.0"},
				"multi-dep.call-variants.1": {"multi-dep.ref.0", "multi-dep.align-reads.1"},
				"multi-dep.call-variants.2": {"multi-dep.ref.0", "multi-dep.align-reads.2"},
				"multi-dep.report.0":        {"multi-dep.call-variants.0", "multi-dep.call-variants.1", "multi-dep.call-variants.2", "multi-dep.ref.0"},
			},
			order: []string{"align-reads", "ref", "call-variants", "report"},
			roots: []string{"align-reads", "ref"},
		},
		{
			// Ties are broken by spec order: y and z are available first;
			// x comes before w in the spec once both are available.
			name:      "stable order",
			execution: "e",
			tasks: []Task{
				{Name: "x", Jobs: 1, Dependencies: []Dependency{dep("z", Whole)}},
				{Name: "y", Jobs: 1},
				{Name: "z", Jobs: 1},
				{Name: "w", Jobs: 1, Dependencies: []Dependency{dep("y", Whole)}},
			},
			children: map[string][]string{
				"e.z.0": {"e.x.0"},
				"e.y.0": {"e.w.0"},
			},
			parents: map[string][]string{
				"e.x.0": {"e.z.0"},
				"e.w.0": {"e.y.0"},
			},
			order: []string{"y", "z", "x", "w"},
			roots: []string{"y", "z"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := mustBuild(t, tc.execution, tc.tasks)
			total := 0
			var edges int64
			edgesFrom := map[string][]string{}
			g.EachEdge(func(e JobEdge) bool {
				if got, want := e.Type, edgeType(g, e.To, e.From); got != want {
					t.Errorf("edge %s -> %s has type %q, want %q", g.JobName(e.From, e.FromIndex), g.JobName(e.To, e.ToIndex), got, want)
				}
				from := g.JobName(e.From, e.FromIndex)
				edgesFrom[from] = append(edgesFrom[from], g.JobName(e.To, e.ToIndex))
				return true
			})
			for task := 0; task < g.NumTasks(); task++ {
				for index := 0; index < g.Jobs(task); index++ {
					total++
					name := g.JobName(task, index)
					if other := JobName(tc.execution, g.TaskName(task), index); other != name {
						t.Errorf("JobName(%q, %q, %d) = %q, the graph says %q", tc.execution, g.TaskName(task), index, other, name)
					}
					wantChildren := tc.children[name]
					if wantChildren == nil {
						wantChildren = []string{}
					}
					edges += int64(len(wantChildren))
					if got := childNames(g, task, index); !slices.Equal(got, wantChildren) {
						t.Errorf("children of %s = %v, want %v", name, got, wantChildren)
					}
					if got := edgesFrom[name]; !slices.Equal(got, tc.children[name]) {
						t.Errorf("EachEdge from %s reaches %v, want %v", name, got, wantChildren)
					}
					if got := g.NumChildren(task, index); got != len(wantChildren) {
						t.Errorf("NumChildren of %s = %d, want %d", name, got, len(wantChildren))
					}
					wantParents := tc.parents[name]
					if wantParents == nil {
						wantParents = []string{}
					}
					if got := parentNames(g, task, index); !slices.Equal(got, wantParents) {
						t.Errorf("parents of %s = %v, want %v", name, got, wantParents)
					}
				}
			}
			if g.TotalJobs() != total {
				t.Errorf("TotalJobs() = %d, want %d", g.TotalJobs(), total)
			}
			if got := g.NumEdges(); got != edges {
				t.Errorf("NumEdges() = %d, want %d", got, edges)
			}
			if got := taskNames(g, g.TopologicalOrder()); !slices.Equal(got, tc.order) {
				t.Errorf("TopologicalOrder() = %v, want %v", got, tc.order)
			}
			if got := taskNames(g, g.Roots()); !slices.Equal(got, tc.roots) {
				t.Errorf("Roots() = %v, want %v", got, tc.roots)
			}
		})
	}
}

// edgeType is the type of task to's dependency on task from.
func edgeType(g *Graph, to, from int) DependencyType {
	for _, e := range g.Upstream(to) {
		if e.Task == from {
			return e.Type
		}
	}
	return ""
}

func taskNames(g *Graph, tasks []int) []string {
	names := make([]string, len(tasks))
	for i, t := range tasks {
		names[i] = g.TaskName(t)
	}
	return names
}

func TestTaskLevelAccessors(t *testing.T) {
	tasks := []Task{
		{Name: "a", Jobs: 2},
		{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
		{Name: "c", Jobs: 5, Dependencies: []Dependency{dep("b", Whole), dep("a", Whole)}},
	}
	g := mustBuild(t, "e", tasks)
	if got, want := g.Downstream(0), []Edge{{1, Iterate}, {2, Whole}}; !slices.Equal(got, want) {
		t.Errorf("Dependents(a) = %v, want %v", got, want)
	}
	if got, want := g.Upstream(2), []Edge{{1, Whole}, {0, Whole}}; !slices.Equal(got, want) {
		t.Errorf("Dependencies(c) = %v, want %v", got, want)
	}
	if i, ok := g.TaskIndex("c"); !ok || i != 2 {
		t.Errorf("TaskIndex(c) = %d, %v", i, ok)
	}
	if _, ok := g.TaskIndex("x"); ok {
		t.Error("TaskIndex found a task that does not exist")
	}

	// The graph is immutable: neither the caller's input nor the values
	// returned can change it.
	tasks[2].Dependencies[0].Target = "changed"
	tasks[0].Name = "changed"
	g.Downstream(0)[0].Task = 99
	g.Task(2).Dependencies[1].Type = Iterate
	g.TopologicalOrder()[0] = 99
	if got := g.Task(2); got.Dependencies[0].Target != "b" || got.Dependencies[1].Type != Whole {
		t.Errorf("Task(c) was modified from outside: %+v", got)
	}
	if g.TaskName(0) != "a" || g.Downstream(0)[0].Task != 1 || g.TopologicalOrder()[0] != 0 {
		t.Error("graph was modified from outside")
	}

	// Out-of-range indexes name nothing.
	for _, bad := range []int{-1, 3} {
		if g.Task(bad).Name != "" || g.TaskName(bad) != "" || g.Jobs(bad) != 0 ||
			g.Downstream(bad) != nil || g.Upstream(bad) != nil || g.JobName(bad, 0) != "" ||
			g.NumChildren(bad, 0) != 0 || g.Ready(nil, bad, 0) {
			t.Errorf("task %d is not treated as nonexistent", bad)
		}
	}
	for _, bad := range []int{-1, 2} {
		if g.JobName(0, bad) != "" || g.NumChildren(0, bad) != 0 || len(childNames(g, 0, bad)) != 0 ||
			len(parentNames(g, 1, bad)) != 0 || g.Ready(newTestState(g), 0, bad) {
			t.Errorf("job index %d is not treated as nonexistent", bad)
		}
	}
}

func TestBuildProblems(t *testing.T) {
	tests := []struct {
		name  string
		tasks []Task
		want  []Problem
	}{
		{
			name: "unknown target",
			tasks: []Task{
				{Name: "a", Jobs: 1},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", Whole), dep("x", Whole)}},
			},
			want: []Problem{{UnknownTarget, 1, 1, `task "b" depends on unknown task "x"`}},
		},
		{
			name:  "self dependency",
			tasks: []Task{{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("a", Iterate)}}},
			want:  []Problem{{SelfDependency, 0, 0, `task "a" depends on itself`}},
		},
		{
			name: "two-task cycle",
			tasks: []Task{
				{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", Whole)}},
			},
			want: []Problem{{Cycle, 1, 0, `dependency cycle: a -> b -> a`}},
		},
		{
			name: "three-task cycle",
			tasks: []Task{
				{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("c", Whole)}},
				{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("a", Whole)}},
			},
			want: []Problem{{Cycle, 2, 0, `dependency cycle: a -> b -> c -> a`}},
		},
		{
			name: "three-task cycle declared the other way",
			tasks: []Task{
				{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("c", Whole)}},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", Whole)}},
				{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
			},
			want: []Problem{{Cycle, 1, 0, `dependency cycle: a -> c -> b -> a`}},
		},
		{
			name: "cycle below a valid root",
			tasks: []Task{
				{Name: "root", Jobs: 1},
				{Name: "x", Jobs: 1, Dependencies: []Dependency{dep("root", Whole), dep("y", Whole)}},
				{Name: "y", Jobs: 1, Dependencies: []Dependency{dep("x", Whole)}},
			},
			want: []Problem{{Cycle, 2, 0, `dependency cycle: x -> y -> x`}},
		},
		{
			// The cycle is found after the unknown target but reported first.
			name: "cycle and unknown target on one task",
			tasks: []Task{
				{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", Whole), dep("x", Whole)}},
			},
			want: []Problem{
				{Cycle, 1, 0, `dependency cycle: a -> b -> a`},
				{UnknownTarget, 1, 1, `task "b" depends on unknown task "x"`},
			},
		},
		{
			name: "two cycles sharing a task",
			tasks: []Task{
				{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", Whole), dep("c", Whole)}},
				{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
			},
			want: []Problem{
				{Cycle, 1, 0, `dependency cycle: a -> b -> a`},
				{Cycle, 2, 0, `dependency cycle: b -> c -> b`},
			},
		},
		{
			name: "two disjoint cycles",
			tasks: []Task{
				{Name: "a", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", Whole)}},
				{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("d", Iterate)}},
				{Name: "d", Jobs: 1, Dependencies: []Dependency{dep("c", Iterate)}},
			},
			want: []Problem{
				{Cycle, 1, 0, `dependency cycle: a -> b -> a`},
				{Cycle, 3, 0, `dependency cycle: c -> d -> c`},
			},
		},
		{
			name: "duplicate dependency",
			tasks: []Task{
				{Name: "a", Jobs: 2},
				{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Whole), dep("a", Iterate), dep("a", Whole)}},
			},
			want: []Problem{
				{DuplicateDependency, 1, 1, `task "b" depends on task "a" more than once`},
				{DuplicateDependency, 1, 2, `task "b" depends on task "a" more than once`},
			},
		},
		{
			name: "invalid dependency type",
			tasks: []Task{
				{Name: "a", Jobs: 1},
				{Name: "b", Jobs: 1, Dependencies: []Dependency{dep("a", ""), dep("c", "each")}},
				{Name: "c", Jobs: 1},
			},
			want: []Problem{
				{InvalidDependencyType, 1, 0, `task "b" has a dependency on task "a" of unsupported type "": must be "whole" or "iterate"`},
				{InvalidDependencyType, 1, 1, `task "b" has a dependency on task "c" of unsupported type "each": must be "whole" or "iterate"`},
			},
		},
		{
			name: "iterate count mismatch",
			tasks: []Task{
				{Name: "a", Jobs: 2},
				{Name: "b", Jobs: 3, Dependencies: []Dependency{dep("a", Iterate)}},
			},
			want: []Problem{{IterateCountMismatch, 1, 0, `iterate dependency requires equal job counts: task "b" has 3 jobs, task "a" has 2`}},
		},
		{
			name: "duplicate task",
			tasks: []Task{
				{Name: "a", Jobs: 1},
				{Name: "b", Jobs: 1},
				{Name: "a", Jobs: 1},
			},
			want: []Problem{{DuplicateTask, 2, -1, `duplicate task name "a"`}},
		},
		{
			name: "no jobs: no follow-up mismatch",
			tasks: []Task{
				{Name: "a", Jobs: 0},
				{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
				{Name: "c", Jobs: -3},
			},
			want: []Problem{
				{InvalidJobCount, 0, -1, `task "a" must have at least one job, has 0`},
				{InvalidJobCount, 2, -1, `task "c" must have at least one job, has -3`},
			},
		},
		{
			name: "too many jobs",
			tasks: []Task{
				{Name: "a", Jobs: MaxJobs - 1},
				{Name: "b", Jobs: 1},
				{Name: "c", Jobs: 1},
			},
			want: []Problem{{InvalidJobCount, 2, -1, `task "c" has 1 jobs, bringing the execution over the maximum of 2147483647 jobs`}},
		},
		{
			name: "all problems reported, ordered by location",
			tasks: []Task{
				{Name: "a", Jobs: 2, Dependencies: []Dependency{dep("c", Whole), dep("x", Whole)}},
				{Name: "b", Jobs: 3, Dependencies: []Dependency{dep("a", Iterate), dep("b", Whole), dep("a", Whole)}},
				{Name: "c", Jobs: 2, Dependencies: []Dependency{dep("a", "bogus")}},
				{Name: "b", Jobs: 1},
			},
			want: []Problem{
				{UnknownTarget, 0, 1, `task "a" depends on unknown task "x"`},
				{IterateCountMismatch, 1, 0, `iterate dependency requires equal job counts: task "b" has 3 jobs, task "a" has 2`},
				{SelfDependency, 1, 1, `task "b" depends on itself`},
				{DuplicateDependency, 1, 2, `task "b" depends on task "a" more than once`},
				{InvalidDependencyType, 2, 0, `task "c" has a dependency on task "a" of unsupported type "bogus": must be "whole" or "iterate"`},
				{Cycle, 2, 0, `dependency cycle: a -> c -> a`},
				{DuplicateTask, 3, -1, `duplicate task name "b"`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, got := Build("e", tc.tasks)
			if g != nil {
				t.Errorf("Build returned a graph despite problems")
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", formatProblems(got), formatProblems(tc.want))
			}
		})
	}
}

func formatProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  {%s, %d, %d, %q}\n", p.Kind, p.Task, p.Dependency, p.Message)
	}
	return b.String()
}

func TestLongCycleMessage(t *testing.T) {
	const n = 40
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i] = Task{Name: fmt.Sprintf("t%d", i), Jobs: 1, Dependencies: []Dependency{dep(fmt.Sprintf("t%d", (i+1)%n), Whole)}}
	}
	_, problems := Build("e", tasks)
	want := Problem{Cycle, n - 1, 0, "dependency cycle: t0 -> t1 -> t2 -> t3 -> t4 -> t5 -> t6 -> t7 -> ... (24 more) -> " +
		"t32 -> t33 -> t34 -> t35 -> t36 -> t37 -> t38 -> t39 -> t0"}
	if len(problems) != 1 || problems[0] != want {
		t.Errorf("problems:\n%s\nwant:\n%s", formatProblems(problems), formatProblems([]Problem{want}))
	}
}

func TestBuildEmpty(t *testing.T) {
	g := mustBuild(t, "e", nil)
	if g.NumTasks() != 0 || g.TotalJobs() != 0 || len(g.TopologicalOrder()) != 0 || len(g.Roots()) != 0 {
		t.Error("empty execution has tasks")
	}
	if _, _, ok := g.ParseJobName("e.a.0"); ok {
		t.Error("empty execution parsed a job name")
	}
}

// TestReadinessSequences feeds successes one at a time and checks which
// jobs NewlyReady reports after each of them.
func TestReadinessSequences(t *testing.T) {
	examples := canonical()
	type step struct {
		succeeded string
		newReady  []string
	}
	tests := []struct {
		name      string
		execution string
		tasks     []Task
		initial   []string // jobs ready before anything succeeded
		steps     []step
	}{
		{
			name:      "whole",
			execution: "exec-whole",
			tasks:     examples["exec-whole"],
			initial:   []string{"exec-whole.a.0", "exec-whole.a.1"},
			steps: []step{
				{"exec-whole.a.0", nil},
				{"exec-whole.a.1", []string{"exec-whole.b.0", "exec-whole.b.1"}},
				{"exec-whole.b.1", nil},
				{"exec-whole.b.0", nil},
			},
		},
		{
			name:      "iterate",
			execution: "exec-iterate",
			tasks:     examples["exec-iterate"],
			initial:   []string{"exec-iterate.a.0", "exec-iterate.a.1"},
			steps: []step{
				{"exec-iterate.a.1", []string{"exec-iterate.b.1"}},
				{"exec-iterate.b.1", nil},
				{"exec-iterate.a.0", []string{"exec-iterate.b.0"}},
				{"exec-iterate.b.0", nil},
			},
		},
		{
			name:      "diamond",
			execution: "e",
			tasks: []Task{
				{Name: "a", Jobs: 2},
				{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
				{Name: "c", Jobs: 3, Dependencies: []Dependency{dep("a", Whole)}},
				{Name: "d", Jobs: 2, Dependencies: []Dependency{dep("b", Iterate), dep("c", Whole)}},
			},
			initial: []string{"e.a.0", "e.a.1"},
			steps: []step{
				{"e.a.1", []string{"e.b.1"}},
				{"e.a.0", []string{"e.b.0", "e.c.0", "e.c.1", "e.c.2"}},
				{"e.b.0", nil},
				{"e.c.0", nil},
				{"e.c.2", nil},
				{"e.c.1", []string{"e.d.0"}},
				{"e.b.1", []string{"e.d.1"}},
				{"e.d.1", nil},
				{"e.d.0", nil},
			},
		},
		{
			name:      "mixed whole and iterate into one task",
			execution: "mixed",
			tasks: []Task{
				{Name: "a", Jobs: 3},
				{Name: "b", Jobs: 1},
				{Name: "c", Jobs: 3, Dependencies: []Dependency{dep("b", Whole), dep("a", Iterate)}},
			},
			initial: []string{"mixed.a.0", "mixed.a.1", "mixed.a.2", "mixed.b.0"},
			steps: []step{
				{"mixed.a.0", nil},
				{"mixed.b.0", []string{"mixed.c.0"}},
				{"mixed.a.2", []string{"mixed.c.2"}},
				{"mixed.c.0", nil},
				{"mixed.a.1", []string{"mixed.c.1"}},
			},
		},
		{
			name:      "two whole dependencies",
			execution: "e",
			tasks: []Task{
				{Name: "a", Jobs: 1},
				{Name: "b", Jobs: 2},
				{Name: "c", Jobs: 2, Dependencies: []Dependency{dep("a", Whole), dep("b", Whole)}},
			},
			initial: []string{"e.a.0", "e.b.0", "e.b.1"},
			steps: []step{
				{"e.b.0", nil},
				{"e.a.0", nil},
				{"e.b.1", []string{"e.c.0", "e.c.1"}},
			},
		},
		{
			name:      "chain",
			execution: "e",
			tasks: []Task{
				{Name: "a", Jobs: 2},
				{Name: "b", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
				{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("b", Whole)}},
			},
			initial: []string{"e.a.0", "e.a.1"},
			steps: []step{
				{"e.a.0", []string{"e.b.0"}},
				{"e.b.0", nil},
				{"e.a.1", []string{"e.b.1"}},
				{"e.b.1", []string{"e.c.0"}},
				{"e.c.0", nil},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := mustBuild(t, tc.execution, tc.tasks)
			s := newTestState(g)
			if got := readyJobs(g, s); !slices.Equal(got, tc.initial) {
				t.Errorf("initially ready: %v, want %v", got, tc.initial)
			}
			for _, st := range tc.steps {
				task, index := jobRef(t, g, st.succeeded)
				if !g.Ready(s, task, index) {
					t.Fatalf("test runs %s before it is ready", st.succeeded)
				}
				s.succeed(task, index)
				var got []string
				g.NewlyReady(s, task, index, func(ct, ci int, _ DependencyType) bool {
					got = append(got, g.JobName(ct, ci))
					return true
				})
				if !slices.Equal(got, st.newReady) {
					t.Errorf("after %s: newly ready %v, want %v", st.succeeded, got, st.newReady)
				}
			}
		})
	}
}

func readyJobs(g *Graph, s State) []string {
	var names []string
	for task := 0; task < g.NumTasks(); task++ {
		for index := 0; index < g.Jobs(task); index++ {
			if g.Ready(s, task, index) {
				names = append(names, g.JobName(task, index))
			}
		}
	}
	return names
}

func TestNewlyReadyStops(t *testing.T) {
	g := mustBuild(t, "e", []Task{
		{Name: "a", Jobs: 1},
		{Name: "b", Jobs: 3, Dependencies: []Dependency{dep("a", Whole)}},
		{Name: "c", Jobs: 1, Dependencies: []Dependency{dep("a", Iterate)}},
	})
	s := newTestState(g)
	s.succeed(0, 0)
	calls := 0
	g.NewlyReady(s, 0, 0, func(int, int, DependencyType) bool { calls++; return calls < 2 })
	if calls != 2 {
		t.Errorf("NewlyReady called fn %d times after it returned false, want 2", calls)
	}
	calls = 0
	g.Children(0, 0, func(int, int) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("Children called fn %d times after it returned false, want 1", calls)
	}
	// A nil State is "nothing succeeded".
	if g.Ready(nil, 1, 0) || !g.Ready(nil, 0, 0) {
		t.Error("Ready mishandles a nil State")
	}
	g.NewlyReady(nil, 0, 0, func(int, int, DependencyType) bool {
		t.Error("NewlyReady reported a job with a nil State")
		return true
	})
}

// checkRun executes g to completion, running ready jobs in an order chosen
// by rng, and checks NewlyReady against an independent readiness
// computation based on Parents: every job is reported exactly once, at the
// first moment all its parents have succeeded. It returns an error rather
// than failing a test so that it can run on any goroutine.
func checkRun(g *Graph, rng *rand.Rand) error {
	s := newTestState(g)
	reported := make([][]bool, g.NumTasks())
	var queue [][2]int
	for task := range reported {
		reported[task] = make([]bool, g.Jobs(task))
	}
	parentsDone := func(task, index int) bool {
		ok := true
		g.Parents(task, index, func(pt, pi int) bool {
			ok = s.Succeeded(pt, pi)
			return ok
		})
		return ok
	}
	for _, task := range g.Roots() {
		for index := 0; index < g.Jobs(task); index++ {
			reported[task][index] = true
			queue = append(queue, [2]int{task, index})
		}
	}
	for len(queue) > 0 {
		// Every job whose parents are done must have been reported.
		for task := range reported {
			for index := range reported[task] {
				if got, want := reported[task][index], parentsDone(task, index); got != want {
					return fmt.Errorf("job %s: reported ready %v, parents done %v", g.JobName(task, index), got, want)
				}
				if got, want := g.Ready(s, task, index), parentsDone(task, index); got != want {
					return fmt.Errorf("Ready(%s) = %v, parents done %v", g.JobName(task, index), got, want)
				}
			}
		}
		k := rng.Intn(len(queue))
		job := queue[k]
		queue[k] = queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		s.succeed(job[0], job[1])
		var err error
		g.NewlyReady(s, job[0], job[1], func(ct, ci int, via DependencyType) bool {
			switch {
			case !slices.Contains(g.Upstream(ct), Edge{Task: job[0], Type: via}):
				err = fmt.Errorf("after %s: %s reported ready through a %s dependency it does not have", g.JobName(job[0], job[1]), g.JobName(ct, ci), via)
			case reported[ct][ci]:
				err = fmt.Errorf("after %s: %s reported ready twice", g.JobName(job[0], job[1]), g.JobName(ct, ci))
			case !parentsDone(ct, ci):
				err = fmt.Errorf("after %s: %s reported ready before its parents succeeded", g.JobName(job[0], job[1]), g.JobName(ct, ci))
			default:
				reported[ct][ci] = true
				queue = append(queue, [2]int{ct, ci})
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	done := 0
	for task := range s.count {
		done += s.count[task]
	}
	if done != g.TotalJobs() {
		return fmt.Errorf("run finished with %d of %d jobs succeeded", done, g.TotalJobs())
	}
	return nil
}

func TestRunsComplete(t *testing.T) {
	graphs := map[string][]Task{
		"diamond": {
			{Name: "a", Jobs: 3},
			{Name: "b", Jobs: 3, Dependencies: []Dependency{dep("a", Iterate)}},
			{Name: "c", Jobs: 2, Dependencies: []Dependency{dep("a", Whole)}},
			{Name: "d", Jobs: 3, Dependencies: []Dependency{dep("b", Iterate), dep("c", Whole)}},
		},
		"wide": {
			{Name: "a", Jobs: 4},
			{Name: "b", Jobs: 1},
			{Name: "c", Jobs: 4, Dependencies: []Dependency{dep("a", Iterate), dep("b", Whole)}},
			{Name: "d", Jobs: 4, Dependencies: []Dependency{dep("c", Iterate), dep("a", Iterate), dep("b", Whole)}},
			{Name: "e", Jobs: 2, Dependencies: []Dependency{dep("d", Whole), dep("c", Whole)}},
			{Name: "f", Jobs: 2, Dependencies: []Dependency{dep("e", Iterate)}},
		},
	}
	for name, tasks := range canonical() {
		graphs[name] = tasks
	}
	for name, tasks := range graphs {
		t.Run(name, func(t *testing.T) {
			g := mustBuild(t, name, tasks)
			for seed := int64(0); seed < 20; seed++ {
				if err := checkRun(g, rand.New(rand.NewSource(seed))); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
			}
		})
	}
}

func TestParseJobName(t *testing.T) {
	g := mustBuild(t, "exec-whole-1", []Task{
		{Name: "a", Jobs: 2},
		{Name: "align-reads", Jobs: 12},
		{Name: "exec-whole-1", Jobs: 1}, // a task named like the execution
		{Name: "b-2", Jobs: 2, Dependencies: []Dependency{dep("a", Iterate)}},
	})
	for task := 0; task < g.NumTasks(); task++ {
		for index := 0; index < g.Jobs(task); index++ {
			name := g.JobName(task, index)
			gotTask, gotIndex, ok := g.ParseJobName(name)
			if !ok || gotTask != task || gotIndex != index {
				t.Errorf("ParseJobName(%q) = %d, %d, %v; want %d, %d, true", name, gotTask, gotIndex, ok, task, index)
			}
		}
	}
	if got := g.JobName(1, 11); got != "exec-whole-1.align-reads.11" {
		t.Errorf("JobName(align-reads, 11) = %q", got)
	}
	for _, name := range []string{
		"",
		"exec-whole-1",
		"exec-whole-1.",
		"exec-whole-1.a",
		"exec-whole-1.a.",
		"exec-whole-1.a.2",   // out of range
		"exec-whole-1.a.-1",  // negative
		"exec-whole-1.a.+1",  // sign
		"exec-whole-1.a.01",  // not canonical
		"exec-whole-1.a.1x",  // garbage
		"exec-whole-1.a.0.0", // trailing index
		"exec-whole-1.x.0",   // unknown task
		"exec-whole-1.align.0",
		"exec-whole-1.align-reads.12",
		"exec-whole-1.align-reads.99999999999999999999",
		"exec-whole-1.align-reads.4294967296",
		"exec-whole.a.0",    // other execution, a prefix of this one
		"exec-whole-10.a.0", // other execution with this one as a prefix
		"exec-whole-1a.0",
		"exec-whole-1-a.0", // no dot after the execution
		"exec-whole-1..0",
		".a.0",
		"exec-whole-1.a.0 ",
	} {
		if task, index, ok := g.ParseJobName(name); ok {
			t.Errorf("ParseJobName(%q) = %d, %d, true; want false", name, task, index)
		}
	}
}

// TestConcurrentReads lets the race detector check that reads share no
// mutable state.
func TestConcurrentReads(t *testing.T) {
	g := mustBuild(t, "e", canonical()["exec-iterate"])
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := checkRun(g, rand.New(rand.NewSource(int64(i)))); err != nil {
					t.Error(err)
					return
				}
				_ = g.Ready(newTestState(g), 1, 0)
				_, _, _ = g.ParseJobName("e.b.1")
				_ = g.TopologicalOrder()
			}
		}()
	}
	wg.Wait()
}
