package dag

import (
	"math/rand"
	"testing"
)

// fuzzNames are the task names fuzz input picks from; picking a name twice
// makes a duplicate task, and depending on one that was not picked makes an
// unknown target.
var fuzzNames = []string{"a", "b", "c-1", "align-reads", "e", "f-f", "g", "h"}

// decodeTasks turns fuzz bytes into a task list: for each task a name, a
// job count (0 included, to reach InvalidJobCount) and up to three
// dependencies with a target and a type (sometimes invalid).
func decodeTasks(data []byte) []Task {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	n := next() % 9
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i].Name = fuzzNames[next()%len(fuzzNames)]
		tasks[i].Jobs = next() % 5
		for d := next() % 4; d > 0; d-- {
			var typ DependencyType
			switch next() % 5 {
			case 0, 1:
				typ = Whole
			case 2, 3:
				typ = Iterate
			default:
				typ = "each"
			}
			tasks[i].Dependencies = append(tasks[i].Dependencies, Dependency{Target: fuzzNames[next()%len(fuzzNames)], Type: typ})
		}
	}
	return tasks
}

var knownKinds = map[ProblemKind]bool{
	DuplicateTask: true, InvalidJobCount: true, InvalidDependencyType: true, UnknownTarget: true,
	SelfDependency: true, DuplicateDependency: true, IterateCountMismatch: true, Cycle: true,
}

// hasCycle is a reference cycle check: repeatedly remove tasks all of whose
// (resolvable, non-self) dependencies are removed.
func hasCycle(tasks []Task) bool {
	first := map[string]int{}
	for i, t := range tasks {
		if _, ok := first[t.Name]; !ok {
			first[t.Name] = i
		}
	}
	removed := make([]bool, len(tasks))
	for progress := true; progress; {
		progress = false
		for i, t := range tasks {
			if removed[i] {
				continue
			}
			free := true
			for _, d := range t.Dependencies {
				if u, ok := first[d.Target]; ok && d.Target != t.Name && !removed[u] {
					free = false
				}
			}
			if free {
				removed[i], progress = true, true
			}
		}
	}
	for _, r := range removed {
		if !r {
			return true
		}
	}
	return false
}

func FuzzBuild(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{1, 0, 2, 0},                      // one task, no dependencies
		{2, 0, 2, 0, 1, 2, 1, 0, 0},       // exec-whole
		{2, 0, 2, 0, 1, 2, 1, 2, 0},       // exec-iterate
		{2, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0}, // two-task cycle
		{3, 0, 1, 1, 0, 1, 1, 1, 1, 0, 2, 2, 1, 1, 0, 0}, // three-task cycle
		{1, 0, 1, 1, 0, 0},                // self dependency
		{2, 0, 3, 0, 1, 2, 1, 2, 0},       // iterate mismatch
		{2, 0, 0, 0, 0, 0, 0},             // duplicate task, no jobs
		{2, 0, 2, 0, 1, 2, 2, 0, 0, 2, 0}, // duplicate dependency
		{2, 0, 2, 0, 1, 2, 1, 4, 0},       // invalid type
		{1, 0, 2, 1, 0, 7},                // unknown target
		{4, 0, 2, 0, 1, 2, 1, 2, 0, 2, 3, 1, 0, 0, 3, 2, 2, 2, 1, 0, 2}, // diamond-ish
		{8, 0, 4, 0, 1, 3, 3, 0, 0, 2, 2, 4, 1, 2, 0, 3, 3, 1, 1, 2, 0, 4, 3, 1, 3, 0, 5, 2, 1, 4, 1, 6, 4, 2, 0, 5, 7, 1, 3, 2, 6},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tasks := decodeTasks(data)
		g, problems := Build("fuzz-exec", tasks)
		if (g == nil) != (len(problems) > 0) {
			t.Fatalf("graph %v with %d problems", g != nil, len(problems))
		}
		sawCycle := false
		for _, p := range problems {
			if !knownKinds[p.Kind] || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
			if p.Task < 0 || p.Task >= len(tasks) || p.Dependency < -1 || p.Dependency >= len(tasks[p.Task].Dependencies) {
				t.Fatalf("problem %+v located outside the spec", p)
			}
			sawCycle = sawCycle || p.Kind == Cycle
		}
		if want := hasCycle(tasks); sawCycle != want {
			t.Fatalf("cycle reported: %v, reference says %v; problems %+v", sawCycle, want, problems)
		}
		if g == nil {
			return
		}

		order := g.TopologicalOrder()
		pos := make([]int, g.NumTasks())
		for i := range pos {
			pos[i] = -1
		}
		for i, task := range order {
			if task < 0 || task >= g.NumTasks() || pos[task] >= 0 {
				t.Fatalf("TopologicalOrder() = %v is not a permutation", order)
			}
			pos[task] = i
		}
		if len(order) != g.NumTasks() {
			t.Fatalf("TopologicalOrder() = %v misses tasks", order)
		}
		edges := 0
		for task := 0; task < g.NumTasks(); task++ {
			for _, e := range g.Upstream(task) {
				edges++
				if pos[e.Task] >= pos[task] {
					t.Fatalf("order %v puts %d before its dependency %d", order, task, e.Task)
				}
			}
			edges -= len(g.Downstream(task))
			for index := 0; index < g.Jobs(task); index++ {
				name := g.JobName(task, index)
				if pt, pi, ok := g.ParseJobName(name); !ok || pt != task || pi != index {
					t.Fatalf("%q does not round-trip", name)
				}
				n := 0
				g.Children(task, index, func(ct, ci int) bool {
					n++
					isParent := false
					g.Parents(ct, ci, func(pt, pi int) bool {
						isParent = pt == task && pi == index
						return !isParent
					})
					if !isParent {
						t.Fatalf("%s is a child of %s, which is not its parent", g.JobName(ct, ci), name)
					}
					return true
				})
				if n != g.NumChildren(task, index) {
					t.Fatalf("NumChildren(%s) = %d, Children visits %d", name, g.NumChildren(task, index), n)
				}
			}
		}
		if edges != 0 {
			t.Fatalf("Dependencies and Dependents disagree on the number of edges")
		}
		if err := checkRun(g, rand.New(rand.NewSource(int64(len(data))))); err != nil {
			t.Fatal(err)
		}
	})
}
