package dag

import (
	"fmt"
	"testing"
)

// benchShapes returns the task lists benchmarked for a total of jobs jobs:
// two tasks joined by a whole or an iterate dependency, and a chain of ten
// tasks, each depending as a whole on the previous one.
func benchShapes(jobs int) []struct {
	name  string
	tasks []Task
} {
	chain := make([]Task, 10)
	for i := range chain {
		chain[i] = Task{Name: fmt.Sprintf("step-%d", i), Jobs: jobs / 10}
		if i > 0 {
			chain[i].Dependencies = []Dependency{{Target: chain[i-1].Name, Type: Whole}}
		}
	}
	pair := func(typ DependencyType) []Task {
		return []Task{
			{Name: "a", Jobs: jobs / 2},
			{Name: "b", Jobs: jobs / 2, Dependencies: []Dependency{{Target: "a", Type: typ}}},
		}
	}
	return []struct {
		name  string
		tasks []Task
	}{
		{"whole", pair(Whole)},
		{"iterate", pair(Iterate)},
		{"chain", chain},
	}
}

var benchJobs = []int{4000, 100000}

// BenchmarkBuild measures Build with its validation; it must not depend on
// the number of jobs.
func BenchmarkBuild(b *testing.B) {
	for _, jobs := range benchJobs {
		for _, shape := range benchShapes(jobs) {
			b.Run(fmt.Sprintf("%s/jobs=%d", shape.name, jobs), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if g, problems := Build("bench", shape.tasks); g == nil {
						b.Fatal(problems)
					}
				}
			})
		}
	}
}

// BenchmarkChildren measures Build followed by visiting the children of
// every job. For whole dependencies this visits every job-level edge, a
// number quadratic in the task sizes (reported as edges/op): it is what
// the /graph endpoint would pay to list all edges, and why the controller
// uses NewlyReady instead.
func BenchmarkChildren(b *testing.B) {
	for _, jobs := range benchJobs {
		for _, shape := range benchShapes(jobs) {
			b.Run(fmt.Sprintf("%s/jobs=%d", shape.name, jobs), func(b *testing.B) {
				b.ReportAllocs()
				var edges int
				for b.Loop() {
					g, problems := Build("bench", shape.tasks)
					if g == nil {
						b.Fatal(problems)
					}
					edges = 0
					for task := 0; task < g.NumTasks(); task++ {
						for index := 0; index < g.Jobs(task); index++ {
							g.Children(task, index, func(int, int) bool {
								edges++
								return true
							})
						}
					}
				}
				b.ReportMetric(float64(edges), "edges/op")
			})
		}
	}
}

// countState is a State for benchmarks: a flat success bitmap per task.
type countState struct {
	done  [][]bool
	count []int
}

func (s *countState) Succeeded(task, index int) bool { return s.done[task][index] }
func (s *countState) SucceededCount(task int) int    { return s.count[task] }

// BenchmarkRun measures Build followed by a whole simulated run, the way
// the controller drives it: start the roots' jobs, and on each success ask
// NewlyReady which jobs to start next.
func BenchmarkRun(b *testing.B) {
	for _, jobs := range benchJobs {
		for _, shape := range benchShapes(jobs) {
			b.Run(fmt.Sprintf("%s/jobs=%d", shape.name, jobs), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g, problems := Build("bench", shape.tasks)
					if g == nil {
						b.Fatal(problems)
					}
					s := &countState{done: make([][]bool, g.NumTasks()), count: make([]int, g.NumTasks())}
					for task := range s.done {
						s.done[task] = make([]bool, g.Jobs(task))
					}
					queue := make([][2]int, 0, g.TotalJobs())
					for _, task := range g.Roots() {
						for index := 0; index < g.Jobs(task); index++ {
							queue = append(queue, [2]int{task, index})
						}
					}
					enqueue := func(task, index int, _ DependencyType) bool {
						queue = append(queue, [2]int{task, index})
						return true
					}
					for head := 0; head < len(queue); head++ {
						task, index := queue[head][0], queue[head][1]
						s.done[task][index] = true
						s.count[task]++
						g.NewlyReady(s, task, index, enqueue)
					}
					if len(queue) != g.TotalJobs() {
						b.Fatalf("ran %d of %d jobs", len(queue), g.TotalJobs())
					}
				}
			})
		}
	}
}
