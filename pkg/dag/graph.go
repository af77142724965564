package dag

import (
	"slices"
	"strconv"
	"strings"
)

// Execution returns the name of the Execution the graph belongs to.
func (g *Graph) Execution() string { return g.execution }

// NumTasks returns the number of tasks.
func (g *Graph) NumTasks() int { return len(g.tasks) }

// TotalJobs returns the number of jobs of all tasks.
func (g *Graph) TotalJobs() int { return g.totalJobs }

func (g *Graph) validTask(task int) bool { return task >= 0 && task < len(g.tasks) }

func (g *Graph) validJob(task, index int) bool {
	return g.validTask(task) && index >= 0 && index < g.tasks[task].Jobs
}

// Task returns a copy of task number i as given to Build, or the zero Task
// if there is no such task.
func (g *Graph) Task(i int) Task {
	if !g.validTask(i) {
		return Task{}
	}
	t := g.tasks[i]
	t.Dependencies = slices.Clone(t.Dependencies)
	return t
}

// TaskName returns the name of a task, or "" if there is no such task.
// Unlike Task, it does not copy anything.
func (g *Graph) TaskName(task int) string {
	if !g.validTask(task) {
		return ""
	}
	return g.tasks[task].Name
}

// Jobs returns the number of jobs of a task, or 0 if there is no such task.
func (g *Graph) Jobs(task int) int {
	if !g.validTask(task) {
		return 0
	}
	return g.tasks[task].Jobs
}

// TaskIndex returns the index of the task with the given name.
func (g *Graph) TaskIndex(name string) (int, bool) {
	i, ok := g.byName[name]
	return i, ok
}

// TopologicalOrder returns every task after all the tasks it depends on.
// Among tasks that could come next, the one earliest in the spec does, so
// the order is deterministic and follows the spec where it can.
func (g *Graph) TopologicalOrder() []int { return slices.Clone(g.order) }

// Roots returns the tasks without dependencies, in spec order: their jobs
// are ready as soon as the Execution starts.
func (g *Graph) Roots() []int { return slices.Clone(g.roots) }

// Downstream returns the tasks that wait for task, in spec order.
func (g *Graph) Downstream(task int) []Edge {
	if !g.validTask(task) {
		return nil
	}
	return slices.Clone(g.downstream[task])
}

// Upstream returns the tasks that task waits for, in the order of its
// dependency list (the spec's dependents).
func (g *Graph) Upstream(task int) []Edge {
	if !g.validTask(task) {
		return nil
	}
	return slices.Clone(g.upstream[task])
}

// JobName returns the name of the Kubernetes Job running job index of the
// named task of the named Execution: "<execution>.<task>.<index>". It is
// the one place jobs are named, also for specs that do not build a graph.
func JobName(execution, task string, index int) string {
	return execution + "." + task + "." + strconv.Itoa(index)
}

// JobName returns the name of the Kubernetes Job running job index of task
// (see the function JobName). It returns "" if there is no such job.
func (g *Graph) JobName(task, index int) string {
	if !g.validJob(task, index) {
		return ""
	}
	return JobName(g.execution, g.tasks[task].Name, index)
}

// ParseJobName is the inverse of JobName. It accepts exactly the names
// JobName produces for this graph: the task must exist and the index be in
// range and written canonically. Names are split at the last dot, since
// indexes have none, so task names may contain dashes (and even dots).
func (g *Graph) ParseJobName(name string) (task, index int, ok bool) {
	prefix := len(g.execution)
	if len(name) <= prefix || name[:prefix] != g.execution || name[prefix] != '.' {
		return 0, 0, false
	}
	rest := name[prefix+1:]
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return 0, 0, false
	}
	task, found := g.byName[rest[:dot]]
	if !found {
		return 0, 0, false
	}
	index, valid := parseIndex(rest[dot+1:], g.tasks[task].Jobs)
	if !valid {
		return 0, 0, false
	}
	return task, index, true
}

// parseIndex parses a canonical decimal index below limit.
func parseIndex(s string, limit int) (int, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64 // ten digits fit, even where int has 32 bits
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n >= int64(limit) {
		return 0, false
	}
	return int(n), true
}

// Children calls fn for every job that waits directly for job index of
// task, until fn returns false: every job of each task depending on it as
// a whole, and job index of each task iterating over it. Each child is
// visited once, grouped by task in spec order. Nothing is stored: the
// children of one job of a whole dependency can be the entire next task.
func (g *Graph) Children(task, index int, fn func(childTask, childIndex int) bool) {
	if !g.validJob(task, index) {
		return
	}
	g.related(g.downstream[task], index, func(t, i int, _ DependencyType) bool { return fn(t, i) })
}

// Parents calls fn for every job that job index of task waits for
// directly, until fn returns false, grouped by task in dependency order.
func (g *Graph) Parents(task, index int, fn func(parentTask, parentIndex int) bool) {
	if !g.validJob(task, index) {
		return
	}
	g.related(g.upstream[task], index, func(t, i int, _ DependencyType) bool { return fn(t, i) })
}

// JobEdge is one job-level dependency: job ToIndex of task To waits for
// job FromIndex of task From.
type JobEdge struct {
	From, FromIndex int
	To, ToIndex     int
	Type            DependencyType
}

// EachEdge calls fn for every job-level edge, until fn returns false, in
// the order of the parent jobs (by task, then index) and, for each parent,
// of its Children. Like Children it stores nothing, so a caller can stream
// the NumEdges edges of a whole dependency between two large tasks.
func (g *Graph) EachEdge(fn func(JobEdge) bool) {
	for t := range g.tasks {
		for i := 0; i < g.tasks[t].Jobs; i++ {
			more := true
			g.related(g.downstream[t], i, func(ct, ci int, typ DependencyType) bool {
				more = fn(JobEdge{From: t, FromIndex: i, To: ct, ToIndex: ci, Type: typ})
				return more
			})
			if !more {
				return
			}
		}
	}
}

// related visits the jobs at the other end of edges from job index.
func (g *Graph) related(edges []Edge, index int, fn func(task, index int, typ DependencyType) bool) {
	for _, e := range edges {
		switch e.Type {
		case Whole:
			for j := 0; j < g.tasks[e.Task].Jobs; j++ {
				if !fn(e.Task, j, Whole) {
					return
				}
			}
		case Iterate:
			if !fn(e.Task, index, Iterate) {
				return
			}
		}
	}
}

// NumChildren returns how many jobs Children would visit, in
// O(number of downstream tasks).
func (g *Graph) NumChildren(task, index int) int {
	if !g.validJob(task, index) {
		return 0
	}
	return g.fanOut(task)
}

// fanOut is the number of children of any one job of task: the same for
// every job, since whole edges reach a whole task and iterate edges one job.
func (g *Graph) fanOut(task int) int {
	n := 0
	for _, e := range g.downstream[task] {
		if e.Type == Whole {
			n += g.tasks[e.Task].Jobs
		} else {
			n++
		}
	}
	return n
}

// NumEdges returns the number of job-level edges, the sum of NumChildren
// over all jobs, in O(tasks + dependencies): a whole dependency between two
// tasks of 50,000 jobs counts 2.5 billion without visiting one.
func (g *Graph) NumEdges() int64 {
	var n int64
	for t := range g.tasks {
		n += int64(g.tasks[t].Jobs) * int64(g.fanOut(t))
	}
	return n
}

// State is what the caller knows about job outcomes; the graph keeps no
// per-job state. SucceededCount lets whole dependencies be checked with one
// counter per task rather than by looking at every job of the task.
type State interface {
	// Succeeded reports whether job index of task has succeeded.
	Succeeded(task, index int) bool
	// SucceededCount returns how many jobs of task have succeeded.
	SucceededCount(task int) int
}

// Ready reports whether every job that job index of task waits for has
// succeeded: all jobs of its whole dependencies and the same-index job of
// its iterate dependencies. It costs O(number of tasks depended on). Jobs
// of root tasks are always ready. A nil State means nothing has succeeded.
func (g *Graph) Ready(s State, task, index int) bool {
	if !g.validJob(task, index) {
		return false
	}
	return g.wholeReady(s, task) && g.iterateReady(s, task, index)
}

// wholeReady reports whether all whole dependencies of task are satisfied,
// which is the same for every job of the task.
func (g *Graph) wholeReady(s State, task int) bool {
	for _, e := range g.upstream[task] {
		if e.Type == Whole && (s == nil || s.SucceededCount(e.Task) < g.tasks[e.Task].Jobs) {
			return false
		}
	}
	return true
}

func (g *Graph) iterateReady(s State, task, index int) bool {
	for _, e := range g.upstream[task] {
		if e.Type == Iterate && (s == nil || !s.Succeeded(e.Task, index)) {
			return false
		}
	}
	return true
}

// NewlyReady calls fn, until it returns false, for every child of job index
// of task that is ready now that this job has succeeded, with the type of
// the child's dependency on task. The caller records the success in s
// first, then calls NewlyReady once for it.
//
// A whole dependency only fans out on the success that brings the task's
// SucceededCount to exactly its number of jobs, so a whole run costs
// O(jobs + whole edges × jobs of the waiting task) in total instead of
// O(all jobs) per event. If successes are recorded in batches before
// NewlyReady is called for them, a job may be reported more than once; the
// caller's own per-job phase decides whether to start it.
func (g *Graph) NewlyReady(s State, task, index int, fn func(childTask, childIndex int, via DependencyType) bool) {
	if !g.validJob(task, index) || s == nil {
		return
	}
	taskDone := s.SucceededCount(task) == g.tasks[task].Jobs
	for _, e := range g.downstream[task] {
		switch e.Type {
		case Whole:
			if !taskDone || !g.wholeReady(s, e.Task) {
				continue
			}
			for j := 0; j < g.tasks[e.Task].Jobs; j++ {
				if g.iterateReady(s, e.Task, j) && !fn(e.Task, j, Whole) {
					return
				}
			}
		case Iterate:
			if g.Ready(s, e.Task, index) && !fn(e.Task, index, Iterate) {
				return
			}
		}
	}
}
