package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Execution is a workflow: tasks of shell commands, each command run as one
// batch/v1 Job named EXECUTION.TASK.INDEX, started in dependency order.
type Execution struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the workflow: its tasks and their dependencies. It cannot be
	// changed after the Execution is created.
	Spec ExecutionSpec `json:"spec"`
	// Status reports the progress of the workflow. It is written by the
	// controller; status.vertices is computed by the server on every read.
	// +optional
	Status ExecutionStatus `json:"status,omitempty"`
}

// ExecutionSpec describes the tasks of a workflow.
type ExecutionSpec struct {
	// Tasks of the workflow. Each task runs one Job per command.
	// +listType=atomic
	Tasks []Task `json:"tasks"`
	// NodeSelector applies to every Job of the Execution unless a task sets its own.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity applies to every Job of the Execution unless a task sets its own.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations apply to every Job of the Execution unless a task sets its own.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Parallelism caps how many Jobs of the Execution run at once. Unset means no cap.
	// +optional
	Parallelism *int64 `json:"parallelism,omitempty"`
	// Suspend, while true, stops the creation of new Jobs: Jobs already
	// running finish, and the Execution goes on when it is set back to false.
	// It is the one field of the spec that may change after creation.
	// +optional
	Suspend *bool `json:"suspend,omitempty"`
	// FailurePolicy says what the failure of a job stops. FailFast (the
	// default): no new Job starts once a job has failed, and the Execution
	// fails. ContinueIndependent: every job that does not depend, directly or
	// not, on a failed job still runs; the Execution fails once nothing else
	// can run.
	// +optional
	FailurePolicy FailurePolicy `json:"failurePolicy,omitempty"`
	// ActiveDeadlineSeconds bounds the Execution's run, counted from the
	// creation of its first Job (status.startedAt; a retry starts the clock
	// again), time spent suspended included: at the deadline no new Job starts, running Jobs are deleted
	// and the Execution fails with reason DeadlineExceeded. Unset means no
	// bound.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// TTLSecondsAfterFinished deletes the Execution, and with it its Jobs,
	// that many seconds after it succeeded or failed. Unset means never.
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
	// JobCleanup says which finished Jobs the controller deletes while the
	// Execution runs. Never (the default) keeps every Job until the
	// Execution is deleted. OnJobSuccess deletes each succeeded Job, and its
	// pods, once its success is recorded in status.tasks: an Execution of
	// many jobs then keeps only its running and failed Jobs in the cluster.
	// status.vertices still shows every job.
	// +optional
	JobCleanup JobCleanupPolicy `json:"jobCleanup,omitempty"`
	// SecurityContext applies to the pod and container of every job; a
	// task's securityContext overrides it field by field.
	// +optional
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`
	// Creator is the user who created the Execution. The server sets it on
	// create from the authenticated request and keeps it on every update;
	// what a client sends is ignored. The controller checks that this user
	// may still create Jobs in the namespace before it creates them.
	// +optional
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
// context: the fields Pod Security "restricted" can accept, with a
// container securityContext's names. fsGroup and supplementalGroups apply to
// the pod, the others to the container. Nothing privileged can be asked for;
// Pod Security admission stays the judge of the rest.
type SecurityContext struct {
	// RunAsUser is the UID the command runs as.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the primary GID the command runs as.
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// RunAsNonRoot requires the image to run as a non-zero UID.
	// +optional
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
	// SeccompProfile of the container: RuntimeDefault or Localhost.
	// +optional
	SeccompProfile *corev1.SeccompProfile `json:"seccompProfile,omitempty"`
	// AllowPrivilegeEscalation controls the no_new_privs flag.
	// +optional
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	// Capabilities to drop, and to add: only those Pod Security "baseline"
	// allows.
	// +optional
	Capabilities *corev1.Capabilities `json:"capabilities,omitempty"`
	// ReadOnlyRootFilesystem mounts the container's root filesystem read-only.
	// +optional
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
	// FSGroup owns the pod's volumes.
	// +optional
	FSGroup *int64 `json:"fsGroup,omitempty"`
	// SupplementalGroups are added to the command's groups.
	// +optional
	// +listType=atomic
	SupplementalGroups []int64 `json:"supplementalGroups,omitempty"`
}

// UserInfo is an authenticated user, as the server saw it.
type UserInfo struct {
	// Username of the user.
	// +optional
	Username string `json:"username,omitempty"`
	// UID of the user.
	// +optional
	UID string `json:"uid,omitempty"`
	// Groups the user belongs to.
	// +optional
	// +listType=atomic
	Groups []string `json:"groups,omitempty"`
	// Extra attributes the authenticator provided.
	// +optional
	Extra map[string]ExtraValue `json:"extra,omitempty"`
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

// Labels on every Job the controller creates for an Execution, and on its
// pods: users and tools select an Execution's Jobs, a task's or one job's
// by them.
const (
	LabelExecution = "execution.kubegene.io/execution"
	LabelTask      = "execution.kubegene.io/task"
	LabelIndex     = "execution.kubegene.io/index"
	// LabelAttempt is the Execution's attempt (status.attempts, 1 before any
	// retry) the Job was created for.
	LabelAttempt = "execution.kubegene.io/attempt"
)

// CreatedByAnnotation records the user who created an Execution. The server
// sets it on create and keeps it on every update; clients cannot write it.
// The controller copies it onto every Job it creates for the Execution.
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
	// +optional
	Type TaskType `json:"type,omitempty"`
	// Image is the container image the task's jobs run.
	Image string `json:"image"`
	// Commands are shell commands, one job each, run with `sh -c`. A task has
	// either commands or commandsIter.
	// +optional
	// +listType=atomic
	Commands []string `json:"commands,omitempty"`
	// CommandsIter generates the task's commands from a template and lists
	// of values, one job per combination: the way to write tasks of
	// thousands of jobs in a few lines. A task has either commands or
	// commandsIter.
	// +optional
	CommandsIter *CommandsIter `json:"commandsIter,omitempty"`
	// Dependents are the tasks this task waits for.
	// +optional
	// +listType=atomic
	Dependents []Dependent `json:"dependents"`
	// Volumes mounted into every job of the task, by volume name.
	// +optional
	Volumes map[string]Volume `json:"volumes,omitempty"`
	// NodeSelector for the task's jobs; overrides the Execution's.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity for the task's jobs; overrides the Execution's.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations for the task's jobs; override the Execution's.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Resources each job's container requests and is limited to.
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`
	// ActiveDeadlineSeconds bounds how long each job may run.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// BackoffLimit is the number of retries of each job before it is failed.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
	// Parallelism caps how many jobs of this task run at once. Unset means no cap.
	// +optional
	Parallelism *int64 `json:"parallelism,omitempty"`
	// SecurityContext of the task's jobs; its fields override those of the
	// Execution's securityContext.
	// +optional
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
	// +optional
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
	// +optional
	CPU *resource.Quantity `json:"cpu,omitempty"`
	// Memory, e.g. "1Gi".
	// +optional
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
	// +optional
	Phase ExecutionPhase `json:"phase,omitempty"`
	// Message is a human-readable summary, e.g. "execution has run successfully".
	// +optional
	Message string `json:"message,omitempty"`
	// StartedAt is when the first job was created.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the Execution succeeded or failed.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Vertices maps each job name to its state and children. The server
	// computes it on read from the spec and status.tasks; it is never stored,
	// and it is left out above the server's render limit (use the graph
	// subresource then).
	// +optional
	Vertices map[string]Vertex `json:"vertices,omitempty"`
	// Tasks is the stored, compact state of each task's jobs.
	// +optional
	// +listType=map
	// +listMapKey=name
	Tasks []TaskStatus `json:"tasks,omitempty"`
	// Conditions are the standard conditions: Complete, Failed, Suspended, JobsBlocked, JobWarning, VerticesRendered.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Attempts counts the runs of the Execution: 1 for the first, one more
	// for each retry (the retry subresource). Jobs carry their attempt in the
	// label execution.kubegene.io/attempt. Unset means 1.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
}

// TaskStatus is the compact state of one task's jobs: sets of job indexes in
// the form of Indexed Jobs' completedIndexes, e.g. "0-4999,5001".
type TaskStatus struct {
	// Name of the task.
	Name string `json:"name"`
	// Created is the set of job indexes whose Job has been created.
	// +optional
	Created string `json:"created,omitempty"`
	// Succeeded is the set of job indexes whose Job has succeeded.
	// +optional
	Succeeded string `json:"succeeded,omitempty"`
	// Failed is the set of job indexes whose Job has failed.
	// +optional
	Failed string `json:"failed,omitempty"`
	// Retrying is the set of job indexes that failed and were retried, whose
	// failed Job is being deleted before it is created again.
	// +optional
	Retrying string `json:"retrying,omitempty"`
	// Messages explains failed jobs, by job index, for the first few failures.
	// +optional
	// +listType=atomic
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
	// +optional
	// +listType=atomic
	Children []string `json:"children,omitempty"`
	// FinishedAt is not tracked per job; it stays null.
	// +nullable
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
	// +nullable
	StartedAt *metav1.Time `json:"startedAt"`
	// Type of the vertex; empty for jobs.
	Type string `json:"type"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExecutionList is a list of Executions.
type ExecutionList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of Executions.
	Items []Execution `json:"items"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ExecutionRetry is the body of a POST to executions/NAME/retry, which runs
// the failed jobs of a Failed Execution again: the succeeded jobs are kept,
// the failed ones run again, and the jobs that waited for them follow. An
// empty object ({}) is a valid request.
type ExecutionRetry struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata; the name, if set, must be the Execution's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
}

// CommandsIter is a command template expanded over lists of values, as in
// KubeGene: one job per combination of one value from each list. ${k} in
// the command is replaced by the value from the k-th list (k from 1); the
// first list varies fastest, so with lists [s1 s2] and [c1 c2 c3] jobs
// 0..5 get (s1 c1) (s2 c1) (s1 c2) (s2 c2) (s1 c3) (s2 c3). Write $${k} for
// a literal ${k}.
type CommandsIter struct {
	// Command is the template, run with `sh -c` once substituted.
	Command string `json:"command"`
	// VarsIter are the lists of values, ${1} taking its value from the first.
	// +listType=atomic
	VarsIter [][]string `json:"varsIter"`
}
