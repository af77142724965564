package validation

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution"
)

// twoTasks is an Execution of jobs split over tasks a and b, b depending on a
// with the given type: the seed's shapes at scale.
func twoTasks(jobs int, typ execution.DependType) *execution.Execution {
	commands := func(prefix string) []string {
		out := make([]string, jobs/2)
		for i := range out {
			out[i] = fmt.Sprintf("echo %s%d", prefix, i)
		}
		return out
	}
	return &execution.Execution{
		ObjectMeta: metav1.ObjectMeta{Name: "exec-bench", Namespace: "default"},
		Spec: execution.ExecutionSpec{Tasks: []execution.Task{
			{Name: "a", Type: execution.TaskTypeJob, Image: "ubuntu", Commands: commands("a")},
			{Name: "b", Type: execution.TaskTypeJob, Image: "ubuntu", Commands: commands("b"),
				Dependents: []execution.Dependent{{Target: "a", Type: typ}}},
		}},
	}
}

// BenchmarkValidateExecution measures admission of an Execution: every
// validation rule plus building its dependency graph.
func BenchmarkValidateExecution(b *testing.B) {
	for _, typ := range []execution.DependType{execution.DependTypeWhole, execution.DependTypeIterate} {
		for _, jobs := range []int{4000, 100000} {
			b.Run(fmt.Sprintf("%s/jobs=%d", typ, jobs), func(b *testing.B) {
				e := twoTasks(jobs, typ)
				opts := DefaultOptions()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if errs := ValidateExecution(e, opts); len(errs) != 0 {
						b.Fatal(errs)
					}
				}
			})
		}
	}
}
