// Package dag is the single implementation of KubeGene's workflow semantics:
// which tasks an Execution has, how their jobs depend on each other, which
// jobs are ready to run. Admission validation, status rendering, the /graph
// endpoint and the controller all use it, so they cannot disagree.
//
// A task is a list of commands; each command runs as one Kubernetes Job.
// Dependencies are declared between tasks:
//
//   - whole: every job of the waiting task waits for every job of the
//     target task;
//   - iterate: job i of the waiting task waits for job i of the target
//     task, which requires both tasks to have the same number of jobs.
//
// An Execution may have 100,000 jobs, and a single whole dependency between
// two tasks of 50,000 jobs each stands for 2.5 billion job-level edges.
// The Graph therefore only stores task-level edges and derives job-level
// relations on demand; building it costs O(tasks + dependencies),
// independent of the number of jobs.
package dag

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// DependencyType says how the jobs of a task wait for the jobs of a task it
// depends on.
type DependencyType string

const (
	// Whole makes every job of the waiting task wait for every job of the
	// target task.
	Whole DependencyType = "whole"
	// Iterate makes job i of the waiting task wait for job i of the
	// target task. Both tasks must have the same number of jobs.
	Iterate DependencyType = "iterate"
)

// MaxJobs bounds the number of jobs of an Execution, so that job indexes
// and counts fit in 32 bits everywhere (e.g. in an indexset.Set).
const MaxJobs = math.MaxInt32

// Dependency is one entry of a task's dependency list: the task waits for
// the task named Target.
type Dependency struct {
	Target string
	Type   DependencyType
}

// Task is what Build needs to know about a task of the Execution spec.
type Task struct {
	Name string
	// Jobs is the number of jobs of the task, i.e. its number of commands.
	Jobs int
	// Dependencies lists the tasks this task waits for.
	Dependencies []Dependency
}

// Edge is a task-level dependency seen from one end. In Downstream, Task is
// the task that waits; in Upstream, the task waited for. (The API's
// `dependents` of a task are its upstream tasks: the ones it waits for.)
type Edge struct {
	Task int
	Type DependencyType
}

// ProblemKind classifies a Problem so that callers can map it to a field
// error type (e.g. NotFound for UnknownTarget, Duplicate for DuplicateTask).
type ProblemKind string

const (
	// DuplicateTask: two tasks have the same name. Reported on every task
	// after the first one of that name.
	DuplicateTask ProblemKind = "DuplicateTask"
	// InvalidJobCount: a task has no jobs, or the Execution more than
	// MaxJobs jobs.
	InvalidJobCount ProblemKind = "InvalidJobCount"
	// InvalidDependencyType: a dependency is neither Whole nor Iterate.
	InvalidDependencyType ProblemKind = "InvalidDependencyType"
	// UnknownTarget: a dependency names a task that does not exist.
	UnknownTarget ProblemKind = "UnknownTarget"
	// SelfDependency: a task depends on itself. It is not also reported as
	// a Cycle.
	SelfDependency ProblemKind = "SelfDependency"
	// DuplicateDependency: a task depends on the same task more than once,
	// whatever the types. Reported on every occurrence after the first.
	DuplicateDependency ProblemKind = "DuplicateDependency"
	// IterateCountMismatch: an iterate dependency joins tasks with
	// different numbers of jobs.
	IterateCountMismatch ProblemKind = "IterateCountMismatch"
	// Cycle: tasks depend on each other in a loop. The message lists the
	// loop, "x -> y" meaning "x depends on y", and the problem is located on
	// the dependency that closes it. Each loop found is reported once.
	Cycle ProblemKind = "Cycle"
)

// Problem is one semantic error found by Build. It is located by indexes so
// that API validation can turn it into a field error on
// spec.tasks[Task].dependents[Dependency] (or spec.tasks[Task] when
// Dependency is -1).
type Problem struct {
	Kind ProblemKind
	// Task is the index of the task in the slice given to Build.
	Task int
	// Dependency is the index in that task's Dependencies, or -1 when the
	// problem is about the task itself.
	Dependency int
	// Message is user-facing, e.g. `task "b" depends on unknown task "x"`.
	Message string
}

// Graph is the validated dependency graph of an Execution. It is immutable
// after Build and safe for concurrent use.
//
// Methods taking a task or job index treat out-of-range indexes as naming
// nothing (no children, not ready, empty name) instead of panicking, because
// indexes may come from names found in the cluster.
type Graph struct {
	execution string
	tasks     []Task
	byName    map[string]int
	// upstream[t] are the tasks t depends on, in spec order; downstream[t]
	// the tasks depending on t, in spec order of the waiting task.
	upstream   [][]Edge
	downstream [][]Edge
	order      []int
	roots      []int
	totalJobs  int
}

// arc is a resolved dependency, for cycle detection and graph assembly.
type arc struct {
	to  int // the task depended on
	dep int // index in the waiting task's Dependencies
}

// Build validates the tasks of the named Execution and returns their graph.
// It reports every problem it finds rather than stopping at the first, so
// a user can fix a spec in one round trip; problems that would only be
// consequences of another one (e.g. a job count mismatch with a task that
// has no jobs) are not reported. Problems are ordered by task, then
// dependency.
//
// The graph is nil if and only if there are problems: a graph that is only
// partly valid has no well-defined semantics, and must never be run.
func Build(execution string, tasks []Task) (*Graph, []Problem) {
	var problems []Problem
	report := func(kind ProblemKind, task, dep int, format string, args ...any) {
		problems = append(problems, Problem{Kind: kind, Task: task, Dependency: dep, Message: fmt.Sprintf(format, args...)})
	}

	byName := make(map[string]int, len(tasks))
	var total int64
	for i, t := range tasks {
		if _, dup := byName[t.Name]; dup {
			report(DuplicateTask, i, -1, "duplicate task name %q", t.Name)
		} else {
			byName[t.Name] = i
		}
		switch {
		case t.Jobs < 1:
			report(InvalidJobCount, i, -1, "task %q must have at least one job, has %d", t.Name, t.Jobs)
		case int64(t.Jobs) > MaxJobs-total:
			report(InvalidJobCount, i, -1, "task %q has %d jobs, bringing the execution over the maximum of %d jobs", t.Name, t.Jobs, MaxJobs)
		default:
			total += int64(t.Jobs)
		}
	}

	// seen[u] == i+1 when task i already has a dependency on task u.
	seen := make([]int, len(tasks))
	arcs := make([][]arc, len(tasks))
	for i, t := range tasks {
		for d, dep := range t.Dependencies {
			if dep.Type != Whole && dep.Type != Iterate {
				report(InvalidDependencyType, i, d, "task %q has a dependency on task %q of unsupported type %q: must be %q or %q",
					t.Name, dep.Target, dep.Type, Whole, Iterate)
			}
			u, known := byName[dep.Target]
			switch {
			case dep.Target == t.Name:
				report(SelfDependency, i, d, "task %q depends on itself", t.Name)
			case !known:
				report(UnknownTarget, i, d, "task %q depends on unknown task %q", t.Name, dep.Target)
			case seen[u] == i+1:
				report(DuplicateDependency, i, d, "task %q depends on task %q more than once", t.Name, dep.Target)
			default:
				seen[u] = i + 1
				arcs[i] = append(arcs[i], arc{to: u, dep: d})
				if dep.Type == Iterate && t.Jobs >= 1 && tasks[u].Jobs >= 1 && t.Jobs != tasks[u].Jobs {
					report(IterateCountMismatch, i, d, "iterate dependency requires equal job counts: task %q has %d jobs, task %q has %d",
						t.Name, t.Jobs, tasks[u].Name, tasks[u].Jobs)
				}
			}
		}
	}
	problems = append(problems, findCycles(tasks, arcs)...)

	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Task, b.Task), cmp.Compare(a.Dependency, b.Dependency))
		})
		return nil, problems
	}
	return assemble(execution, tasks, byName, arcs, int(total)), nil
}

// findCycles reports one Cycle problem per back edge of a depth-first
// search that follows dependencies in spec order. Every loop contains at
// least one back edge, so no loop goes unreported, and the number of
// problems is bounded by the number of dependencies. The search is
// iterative so that long chains cannot exhaust the stack.
func findCycles(tasks []Task, arcs [][]arc) []Problem {
	const (
		unvisited = iota
		onPath
		done
	)
	var problems []Problem
	state := make([]uint8, len(tasks))
	pathPos := make([]int, len(tasks)) // position on path while onPath
	type frame struct{ task, next int }
	var path []frame
	for root := range tasks {
		if state[root] != unvisited {
			continue
		}
		state[root], pathPos[root] = onPath, 0
		path = append(path[:0], frame{task: root})
		for len(path) > 0 {
			top := &path[len(path)-1]
			if top.next == len(arcs[top.task]) {
				state[top.task] = done
				path = path[:len(path)-1]
				continue
			}
			a := arcs[top.task][top.next]
			top.next++
			switch state[a.to] {
			case unvisited:
				state[a.to], pathPos[a.to] = onPath, len(path)
				path = append(path, frame{task: a.to})
			case onPath:
				loop := path[pathPos[a.to]:]
				names := make([]string, len(loop))
				for k, f := range loop {
					names[k] = tasks[f.task].Name
				}
				problems = append(problems, Problem{
					Kind:       Cycle,
					Task:       top.task,
					Dependency: a.dep,
					Message:    "dependency cycle: " + formatLoop(names),
				})
			}
		}
	}
	return problems
}

// maxLoopNames bounds the length of a cycle message; a generated spec can
// have loops through thousands of tasks.
const maxLoopNames = 16

// formatLoop renders "a -> b -> c -> a", eliding the middle of long loops.
func formatLoop(names []string) string {
	var b strings.Builder
	write := func(parts []string) {
		for _, n := range parts {
			b.WriteString(n)
			b.WriteString(" -> ")
		}
	}
	if len(names) <= maxLoopNames {
		write(names)
	} else {
		half := maxLoopNames / 2
		write(names[:half])
		fmt.Fprintf(&b, "... (%d more) -> ", len(names)-2*half)
		write(names[len(names)-half:])
	}
	b.WriteString(names[0])
	return b.String()
}

// assemble builds the Graph of tasks known to be valid.
func assemble(execution string, tasks []Task, byName map[string]int, arcs [][]arc, total int) *Graph {
	g := &Graph{
		execution:  execution,
		tasks:      make([]Task, len(tasks)),
		byName:     byName,
		upstream:   make([][]Edge, len(tasks)),
		downstream: make([][]Edge, len(tasks)),
		totalJobs:  total,
	}
	for i, t := range tasks {
		// Copy so that later changes to the caller's slices cannot alter
		// an immutable graph.
		t.Dependencies = append([]Dependency(nil), t.Dependencies...)
		g.tasks[i] = t
		if len(arcs[i]) > 0 {
			g.upstream[i] = make([]Edge, len(arcs[i]))
		}
		for k, a := range arcs[i] {
			typ := t.Dependencies[a.dep].Type
			g.upstream[i][k] = Edge{Task: a.to, Type: typ}
			g.downstream[a.to] = append(g.downstream[a.to], Edge{Task: i, Type: typ})
		}
		if len(arcs[i]) == 0 {
			g.roots = append(g.roots, i)
		}
	}
	g.order = topologicalOrder(g.upstream, g.downstream)
	return g
}

// topologicalOrder is Kahn's algorithm taking the lowest-indexed available
// task first, so the order is deterministic and stays close to the spec.
func topologicalOrder(upstream, downstream [][]Edge) []int {
	waiting := make([]int, len(upstream))
	var avail intHeap
	for t := range upstream {
		waiting[t] = len(upstream[t])
		if waiting[t] == 0 {
			avail.push(t)
		}
	}
	order := make([]int, 0, len(upstream))
	for len(avail) > 0 {
		t := avail.pop()
		order = append(order, t)
		for _, e := range downstream[t] {
			if waiting[e.Task]--; waiting[e.Task] == 0 {
				avail.push(e.Task)
			}
		}
	}
	return order
}

// intHeap is a minimal min-heap of ints, avoiding container/heap's
// interface conversions.
type intHeap []int

func (h *intHeap) push(v int) {
	*h = append(*h, v)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *intHeap) pop() int {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		m, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s[l] < s[m] {
			m = l
		}
		if r < len(s) && s[r] < s[m] {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
