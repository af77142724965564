package v1alpha1

import (
	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/dag"
)

// GraphTasks describes the spec's tasks in the terms of pkg/dag, which holds
// the one implementation of the workflow semantics, for clients such as the
// controller and the kubectl plugin. It goes through the internal types'
// description (execution.GraphTasks), so that there is one; the generated
// conversion of the spec copies nothing, the two layouts being the same.
func GraphTasks(spec *ExecutionSpec) []dag.Task {
	var internal execution.ExecutionSpec
	// The conversion of a spec cannot fail: it has no custom parts.
	_ = Convert_v1alpha1_ExecutionSpec_To_execution_ExecutionSpec(spec, &internal, nil)
	return execution.GraphTasks(&internal)
}

// BuildGraph builds the dependency graph of an Execution; see dag.Build.
func BuildGraph(e *Execution) (*dag.Graph, []dag.Problem) {
	return dag.Build(e.Name, GraphTasks(&e.Spec))
}

// CommandsOf describes what the task's jobs run; see execution.CommandsOf.
func CommandsOf(t *Task) dag.Commands {
	var internal execution.Task
	_ = Convert_v1alpha1_Task_To_execution_Task(t, &internal, nil)
	return execution.CommandsOf(&internal)
}
