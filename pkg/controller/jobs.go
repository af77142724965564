package controller

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/dag"
)

// Labels on every Job the controller creates (the API's, in v1alpha1). They
// let the controller watch only its own Jobs.
const (
	LabelExecution = v1alpha1.LabelExecution
	LabelTask      = v1alpha1.LabelTask
	LabelIndex     = v1alpha1.LabelIndex
	LabelAttempt   = v1alpha1.LabelAttempt
)

// jobAttempt is the attempt a Job was created for; Jobs without the label
// were created before any retry.
func jobAttempt(job *batchv1.Job) int32 {
	n, err := strconv.ParseInt(job.Labels[LabelAttempt], 10, 32)
	if err != nil || n < 1 {
		return 1
	}
	return int32(n)
}

// attemptOf is the Execution's current attempt.
func attemptOf(e *v1alpha1.Execution) int32 { return max(e.Status.Attempts, 1) }

// jobSelector selects the Jobs the controller watches: those carrying all
// of its labels.
var jobSelector = strings.Join([]string{LabelExecution, LabelTask, LabelIndex}, ",")

// executionKind is the kind of the ownerReference and event subject.
const executionKind = "Execution"

// newJob returns the Job running job index of task t of e, named by the
// graph. A Job runs its command once to completion: pod restartPolicy
// OnFailure as in the original kube-dag, with the task's backoffLimit.
func newJob(e *v1alpha1.Execution, g *dag.Graph, t, index int) *batchv1.Job {
	task := &e.Spec.Tasks[t]
	name := g.JobName(t, index)
	labels := map[string]string{
		LabelExecution: e.Name,
		LabelTask:      task.Name,
		LabelIndex:     strconv.Itoa(index),
		LabelAttempt:   strconv.Itoa(int(attemptOf(e))),
	}

	container := corev1.Container{
		// Jobs names have dots; container names must be DNS labels.
		Name:    strings.ReplaceAll(name, ".", "-"),
		Image:   task.Image,
		Command: []string{"sh", "-c", v1alpha1.CommandsOf(task).At(index)},
	}
	podSecurityContext, containerSecurityContext := securityContexts(e.Spec.SecurityContext, task.SecurityContext)
	container.SecurityContext = containerSecurityContext
	var volumes []corev1.Volume
	for _, vname := range slices.Sorted(maps.Keys(task.Volumes)) {
		v := task.Volumes[vname]
		volumes = append(volumes, corev1.Volume{
			Name: vname,
			VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.MountFrom.PVC},
			},
		})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: vname, MountPath: v.MountPath})
	}
	if r := task.Resources; r != nil {
		list := corev1.ResourceList{}
		if r.CPU != nil {
			list[corev1.ResourceCPU] = r.CPU.DeepCopy()
		}
		if r.Memory != nil {
			list[corev1.ResourceMemory] = r.Memory.DeepCopy()
		}
		if len(list) > 0 {
			container.Resources = corev1.ResourceRequirements{Requests: list, Limits: list.DeepCopy()}
		}
	}

	// The task's placement overrides the Execution's. Copies, because e
	// comes from the informer cache.
	nodeSelector := task.NodeSelector
	if len(nodeSelector) == 0 {
		nodeSelector = e.Spec.NodeSelector
	}
	affinity := task.Affinity
	if affinity == nil {
		affinity = e.Spec.Affinity
	}
	tolerations := task.Tolerations
	if len(tolerations) == 0 {
		tolerations = e.Spec.Tolerations
	}
	var tolerationsCopy []corev1.Toleration
	for i := range tolerations {
		tolerationsCopy = append(tolerationsCopy, *tolerations[i].DeepCopy())
	}

	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   e.Namespace,
			Labels:      labels,
			Annotations: creatorAnnotation(e),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         v1alpha1.SchemeGroupVersion.String(),
				Kind:               executionKind,
				Name:               e.Name,
				UID:                e.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          copyPtr(task.BackoffLimit),
			ActiveDeadlineSeconds: copyPtr(task.ActiveDeadlineSeconds),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels)},
				Spec: corev1.PodSpec{
					RestartPolicy:   corev1.RestartPolicyOnFailure,
					Containers:      []corev1.Container{container},
					Volumes:         volumes,
					NodeSelector:    maps.Clone(nodeSelector),
					Affinity:        affinity.DeepCopy(),
					Tolerations:     tolerationsCopy,
					SecurityContext: podSecurityContext,
				},
			},
		},
	}
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// jobOutcome is what a Job tells about its vertex.
type jobOutcome uint8

const (
	// jobActive: the Job exists and has not finished.
	jobActive jobOutcome = iota
	jobSucceeded
	jobFailed
	// jobGone: the Job was deleted.
	jobGone
)

// outcomeOf classifies a Job by its terminal conditions, as the Job
// controller sets them; interim conditions (FailureTarget,
// SuccessCriteriaMet) are not final yet. For a failed Job it also returns
// the condition's reason and message.
func outcomeOf(job *batchv1.Job) (outcome jobOutcome, reason, message string) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return jobSucceeded, "", ""
		case batchv1.JobFailed:
			return jobFailed, c.Reason, c.Message
		}
	}
	return jobActive, "", ""
}

// controllerOf is the Job's controller reference if an Execution controls
// it, or nil.
func controllerOf(job *batchv1.Job) *metav1.OwnerReference {
	if ref := metav1.GetControllerOf(job); ref != nil && ref.Kind == executionKind &&
		strings.HasPrefix(ref.APIVersion, v1alpha1.GroupName+"/") {
		return ref
	}
	return nil
}

// creatorAnnotation copies who created the Execution onto its Jobs, so the
// cluster's objects say on whose behalf they run.
func creatorAnnotation(e *v1alpha1.Execution) map[string]string {
	creator, ok := e.Annotations[v1alpha1.CreatedByAnnotation]
	if !ok {
		return nil
	}
	return map[string]string{v1alpha1.CreatedByAnnotation: creator}
}
