package execution

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Execution is a workflow: tasks of shell commands, each command run as one
// batch/v1 Job named EXECUTION.TASK.INDEX, started in dependency order.
type Execution struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the workflow: its tasks and their dependencies. It cannot be
	// changed after the Execution is created.
	Spec ExecutionSpec `json:"spec"`
	// Status reports the progress of the workflow. It is written by the
	// controller; status.vertices is computed by the server on every read.
	Status ExecutionStatus `json:"status,omitempty"`
}

// ExecutionSpec describes the tasks of a workflow.
type ExecutionSpec struct {
	// Tasks of the workflow. Each task runs one Job per command.
	Tasks []Task `json:"tasks"`
	// NodeSelector applies to every Job of the Execution unless a task sets its own.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity applies to every Job of the Execution unless a task sets its own.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations apply to every Job of the Execution unless a task sets its own.
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Parallelism caps how many Jobs of the Execution run at once. Unset means no cap.
	Parallelism *int64 `json:"parallelism,omitempty"`
	// Suspend stops the creation of new Jobs while true; see v1alpha1.
	Suspend *bool `json:"suspend,omitempty"`
	// FailurePolicy says what a failed job stops; see v1alpha1.
	FailurePolicy FailurePolicy `json:"failurePolicy,omitempty"`
	// ActiveDeadlineSeconds bounds the Execution's run; see v1alpha1.
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// TTLSecondsAfterFinished deletes a finished Execution; see v1alpha1.
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
	// JobCleanup says which finished Jobs are deleted during a run; see v1alpha1.
	JobCleanup JobCleanupPolicy `json:"jobCleanup,omitempty"`
	// SecurityContext of every job, unless its task overrides it; see v1alpha1.
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`
	// Creator is set by the server on create; see v1alpha1.
	Creator *UserInfo `json:"creator,omitempty"`
}

// JobCleanupPolicy says which finished Jobs are deleted during a run.
type JobCleanupPolicy string

const (
	// JobCleanupNever keeps every Job until its Execution is deleted.
	JobCleanupNever JobCleanupPolicy = "Never"
	// JobCleanupOnJobSuccess deletes each Job once its success is recorded.
	JobCleanupOnJobSuccess JobCleanupPolicy = "OnJobSuccess"
)

// SecurityContext is what an Execution may set of its jobs' security
// context; see v1alpha1.
type SecurityContext struct {
	RunAsUser                *int64                 `json:"runAsUser,omitempty"`
	RunAsGroup               *int64                 `json:"runAsGroup,omitempty"`
	RunAsNonRoot             *bool                  `json:"runAsNonRoot,omitempty"`
	SeccompProfile           *corev1.SeccompProfile `json:"seccompProfile,omitempty"`
	AllowPrivilegeEscalation *bool                  `json:"allowPrivilegeEscalation,omitempty"`
	Capabilities             *corev1.Capabilities   `json:"capabilities,omitempty"`
	ReadOnlyRootFilesystem   *bool                  `json:"readOnlyRootFilesystem,omitempty"`
	FSGroup                  *int64                 `json:"fsGroup,omitempty"`
	SupplementalGroups       []int64                `json:"supplementalGroups,omitempty"`
}

// UserInfo is an authenticated user, as the server saw it.
type UserInfo struct {
	Username string                `json:"username,omitempty"`
	UID      string                `json:"uid,omitempty"`
	Groups   []string              `json:"groups,omitempty"`
	Extra    map[string]ExtraValue `json:"extra,omitempty"`
}

// ExtraValue is the values of one extra attribute of a user.
type ExtraValue []string

// FailurePolicy says what the failure of a job stops.
type FailurePolicy string

const (
	// FailFast stops the Execution at its first failed job.
	FailFast FailurePolicy = "FailFast"
	// ContinueIndependent runs every job that does not depend on a failed one.
	ContinueIndependent FailurePolicy = "ContinueIndependent"
)

// CreatedByAnnotation records the user who created an Execution; see v1alpha1.
const CreatedByAnnotation = "execution.kubegene.io/created-by"

// TaskType is the kind of workload a task runs.
type TaskType string

const (
	// TaskTypeJob runs every command of the task as a batch/v1 Job.
	TaskTypeJob TaskType = "Job"
)

// Task is a group of jobs that run the same image, one job per command.
type Task struct {
	// Name of the task, a DNS-1123 label unique in the Execution. Job i of the
	// task is named EXECUTION.NAME.i.
	Name string `json:"name"`
	// Type of the task. Only "Job" is supported; it is the default.
	Type TaskType `json:"type,omitempty"`
	// Image is the container image the task's jobs run.
	Image string `json:"image"`
	// Commands are shell commands, one job each, run with `sh -c`.
	Commands []string `json:"commands,omitempty"`
	// CommandsIter generates the commands instead; see v1alpha1.
	CommandsIter *CommandsIter `json:"commandsIter,omitempty"`
	// Dependents are the tasks this task waits for.
	Dependents []Dependent `json:"dependents"`
	// Volumes mounted into every job of the task, by volume name.
	Volumes map[string]Volume `json:"volumes,omitempty"`
	// NodeSelector for the task's jobs; overrides the Execution's.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity for the task's jobs; overrides the Execution's.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations for the task's jobs; override the Execution's.
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Resources each job's container requests and is limited to.
	Resources *ResourceRequirements `json:"resources,omitempty"`
	// ActiveDeadlineSeconds bounds how long each job may run.
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// BackoffLimit is the number of retries of each job before it is failed.
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
	// Parallelism caps how many jobs of this task run at once. Unset means no cap.
	Parallelism *int64 `json:"parallelism,omitempty"`
	// SecurityContext of the task's jobs, over the Execution's.
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`
}

// DependType says how the jobs of a task wait for the jobs of its target.
type DependType string

const (
	// DependTypeWhole makes every job of the task wait for every job of the target.
	DependTypeWhole DependType = "whole"
	// DependTypeIterate makes job i of the task wait for job i of the target;
	// both tasks must have the same number of jobs.
	DependTypeIterate DependType = "iterate"
)

// Dependent names a task that this task waits for.
type Dependent struct {
	// Target is the name of the task waited for.
	Target string `json:"target"`
	// Type is "whole" (the default: wait for every job of the target) or
	// "iterate" (job i waits for job i of the target).
	Type DependType `json:"type,omitempty"`
}

// Volume is a volume mounted into a task's jobs.
type Volume struct {
	// MountPath is the absolute path the volume is mounted at.
	MountPath string `json:"mountPath"`
	// MountFrom says where the volume comes from.
	MountFrom VolumeSource `json:"mountFrom"`
}

// VolumeSource is where a volume's data lives.
type VolumeSource struct {
	// PVC is the name of a PersistentVolumeClaim in the Execution's namespace.
	PVC string `json:"pvc"`
}

// ResourceRequirements are what each job's container requests; they are set as
// both requests and limits.
type ResourceRequirements struct {
	// CPU, e.g. "500m".
	CPU *resource.Quantity `json:"cpu,omitempty"`
	// Memory, e.g. "1Gi".
	Memory *resource.Quantity `json:"memory,omitempty"`
}

// ExecutionPhase is where an Execution is in its life.
type ExecutionPhase string

// The phases of Executions and of their vertices (jobs).
const (
	PhasePending   ExecutionPhase = "Pending"
	PhaseRunning   ExecutionPhase = "Running"
	PhaseSucceeded ExecutionPhase = "Succeeded"
	PhaseFailed    ExecutionPhase = "Failed"
)

// Condition types of an Execution, for `kubectl wait --for=condition=...`.
const (
	// ConditionComplete is True once every job has succeeded.
	ConditionComplete = "Complete"
	// ConditionFailed is True once a job has failed.
	ConditionFailed = "Failed"
	// ConditionSuspended is True while spec.suspend holds new Jobs back.
	ConditionSuspended = "Suspended"
	// ConditionJobsBlocked is True while Jobs cannot be created or cannot
	// create their pods: the creator may no longer create Jobs, or
	// kube-apiserver refuses them (a quota, Pod Security, a webhook). Its
	// message names a job and quotes the refusal.
	ConditionJobsBlocked = "JobsBlocked"
	// ConditionJobWarning is True once kube-apiserver answered the creation
	// of a Job with a warning (e.g. Pod Security's "would violate
	// PodSecurity"); its message quotes the latest one.
	ConditionJobWarning = "JobWarning"
	// ConditionVerticesRendered is False when status.vertices was left out
	// because the Execution has more jobs than the server renders.
	ConditionVerticesRendered = "VerticesRendered"
)

// ExecutionStatus is the progress of an Execution.
type ExecutionStatus struct {
	// Phase is Pending, Running, Succeeded or Failed.
	Phase ExecutionPhase `json:"phase,omitempty"`
	// Message is a human-readable summary, e.g. "execution has run successfully".
	Message string `json:"message,omitempty"`
	// StartedAt is when the first job was created.
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the Execution succeeded or failed.
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Vertices maps each job name to its state and children. The server
	// computes it on read from the spec and status.tasks; it is never stored,
	// and it is left out above the server's render limit (use the graph
	// subresource then).
	Vertices map[string]Vertex `json:"vertices,omitempty"`
	// Tasks is the stored, compact state of each task's jobs.
	Tasks []TaskStatus `json:"tasks,omitempty"`
	// Conditions are the standard conditions: Complete, Failed, VerticesRendered.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the controller last acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Attempts counts the runs of the Execution: 1 + the retries; see v1alpha1.
	Attempts int32 `json:"attempts,omitempty"`
}

// TaskStatus is the compact state of one task's jobs: sets of job indexes in
// the form of Indexed Jobs' completedIndexes, e.g. "0-4999,5001".
type TaskStatus struct {
	// Name of the task.
	Name string `json:"name"`
	// Created is the set of job indexes whose Job has been created.
	Created string `json:"created,omitempty"`
	// Succeeded is the set of job indexes whose Job has succeeded.
	Succeeded string `json:"succeeded,omitempty"`
	// Failed is the set of job indexes whose Job has failed.
	Failed string `json:"failed,omitempty"`
	// Retrying is the set of job indexes that failed and run again; see v1alpha1.
	Retrying string `json:"retrying,omitempty"`
	// Messages explains failed jobs, by job index, for the first few failures.
	Messages []JobMessage `json:"messages,omitempty"`
}

// JobMessage says why one job ended as it did.
type JobMessage struct {
	// Index of the job in its task.
	Index int32 `json:"index"`
	// Message from the Job's condition.
	Message string `json:"message"`
}

// Vertex is one job of the workflow graph, as shown in status.vertices.
type Vertex struct {
	// Children are the jobs that wait for this one.
	Children []string `json:"children,omitempty"`
	// FinishedAt is not tracked per job; it stays null.
	FinishedAt *metav1.Time `json:"finishedAt"`
	// ID of the vertex: the job name.
	ID string `json:"id"`
	// Message is "success" for a succeeded job and the failure reason for a failed one.
	Message string `json:"message"`
	// Name of the job.
	Name string `json:"name"`
	// Phase of the job: Pending, Running, Succeeded or Failed.
	Phase ExecutionPhase `json:"phase"`
	// StartedAt is not tracked per job; it stays null.
	StartedAt *metav1.Time `json:"startedAt"`
	// Type of the vertex; empty for jobs.
	Type string `json:"type"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExecutionList is a list of Executions.
type ExecutionList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of Executions.
	Items []Execution `json:"items"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExecutionRetry is the body of a retry request; see v1alpha1.
type ExecutionRetry struct {
	metav1.TypeMeta
	metav1.ObjectMeta
}

// CommandsIter is a command template expanded over lists of values; see
// v1alpha1.
type CommandsIter struct {
	Command  string     `json:"command"`
	VarsIter [][]string `json:"varsIter"`
}
