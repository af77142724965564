package v1alpha1

import "k8s.io/apimachinery/pkg/runtime"

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_Task makes "Job" the task type, the only one there is, so users
// may leave it out.
func SetDefaults_Task(obj *Task) {
	if obj.Type == "" {
		obj.Type = TaskTypeJob
	}
}

// SetDefaults_Dependent makes "whole" the dependency type: a task waits for
// every job of its target unless it asks to iterate.
func SetDefaults_Dependent(obj *Dependent) {
	if obj.Type == "" {
		obj.Type = DependTypeWhole
	}
}

// SetDefaults_ExecutionSpec makes FailFast the failure policy and Never the
// job cleanup: the behaviour of Executions written before there was a choice.
func SetDefaults_ExecutionSpec(obj *ExecutionSpec) {
	if obj.FailurePolicy == "" {
		obj.FailurePolicy = FailFast
	}
	if obj.JobCleanup == "" {
		obj.JobCleanup = JobCleanupNever
	}
}
