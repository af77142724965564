package execution

import "kubegene.io/kubegene/pkg/dag"

// GraphTasks describes the spec's tasks in the terms of pkg/dag, which holds
// the one implementation of the workflow semantics.
func GraphTasks(spec *ExecutionSpec) []dag.Task {
	tasks := make([]dag.Task, len(spec.Tasks))
	for i := range spec.Tasks {
		t := &spec.Tasks[i]
		deps := make([]dag.Dependency, len(t.Dependents))
		for j, d := range t.Dependents {
			deps[j] = dag.Dependency{Target: d.Target, Type: dag.DependencyType(d.Type)}
		}
		tasks[i] = dag.Task{Name: t.Name, Jobs: CommandsOf(t).Len(), Dependencies: deps}
	}
	return tasks
}

// BuildGraph builds the dependency graph of an Execution; see dag.Build.
func BuildGraph(e *Execution) (*dag.Graph, []dag.Problem) {
	return dag.Build(e.Name, GraphTasks(&e.Spec))
}

// CommandsOf describes what the task's jobs run: its commands, or its
// commandsIter, whose job i's command pkg/dag computes on demand.
func CommandsOf(t *Task) dag.Commands {
	if it := t.CommandsIter; it != nil {
		return dag.Commands{Iteration: &dag.Iteration{Template: it.Command, Vars: it.VarsIter}}
	}
	return dag.Commands{List: t.Commands}
}
