package controller

import (
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

func TestNewJob(t *testing.T) {
	e := newExecution("exec-volume",
		task("a", 1),
		v1alpha1.Task{
			Name: "b", Type: v1alpha1.TaskTypeJob, Image: "ubuntu",
			Commands:   []string{"echo b1 >> /tmp/hostvolume/output", "echo b2 >> /tmp/hostvolume/output"},
			Dependents: []v1alpha1.Dependent{whole("a")},
			Volumes: map[string]v1alpha1.Volume{
				"volumec": {MountPath: "/tmp/hostvolume", MountFrom: v1alpha1.VolumeSource{PVC: "exec-pvc"}},
				"data":    {MountPath: "/data", MountFrom: v1alpha1.VolumeSource{PVC: "data-pvc"}},
			},
			Resources: &v1alpha1.ResourceRequirements{
				CPU: ptr.To(resource.MustParse("500m")), Memory: ptr.To(resource.MustParse("1Gi")),
			},
			Tolerations:           []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}},
			ActiveDeadlineSeconds: ptr.To[int64](600),
			BackoffLimit:          ptr.To[int32](2),
		})
	e.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	e.Spec.Tolerations = []corev1.Toleration{{Key: "execution-wide", Operator: corev1.TolerationOpExists}}
	e.Annotations = map[string]string{v1alpha1.CreatedByAnnotation: "alice", "other": "not copied"}
	g, err := buildGraph(e)
	if err != nil {
		t.Fatal(err)
	}

	got := newJob(e, g, 1, 1)
	labels := map[string]string{LabelExecution: "exec-volume", LabelTask: "b", LabelIndex: "1", LabelAttempt: "1"}
	resources := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("500m"),
		corev1.ResourceMemory: resource.MustParse("1Gi"),
	}
	want := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: "exec-volume.b.1", Namespace: testNamespace, Labels: labels,
			Annotations: map[string]string{v1alpha1.CreatedByAnnotation: "alice"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "execution.kubegene.io/v1alpha1", Kind: "Execution", Name: "exec-volume", UID: e.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To[int32](2),
			ActiveDeadlineSeconds: ptr.To[int64](600),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyOnFailure,
					Containers: []corev1.Container{{
						Name:      "exec-volume-b-1",
						Image:     "ubuntu",
						Command:   []string{"sh", "-c", "echo b2 >> /tmp/hostvolume/output"},
						Resources: corev1.ResourceRequirements{Requests: resources, Limits: resources},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "data", MountPath: "/data"},
							{Name: "volumec", MountPath: "/tmp/hostvolume"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-pvc"}}},
						{Name: "volumec", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "exec-pvc"}}},
					},
					// The execution's node selector; the task's own tolerations.
					NodeSelector: map[string]string{"disk": "ssd"},
					Tolerations:  []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}},
				},
			},
		},
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("job differs (-want +got):\n%s", diff.Diff(want, got))
	}

	// Task a sets nothing: the Execution's placement applies.
	a := newJob(e, g, 0, 0)
	if a.Name != "exec-volume.a.0" || a.Spec.Template.Spec.Tolerations[0].Key != "execution-wide" ||
		a.Spec.BackoffLimit != nil || len(a.Spec.Template.Spec.Containers[0].Resources.Requests) != 0 {
		t.Errorf("job of task a = %+v", a)
	}
}

func TestOutcomeOf(t *testing.T) {
	cond := func(typ batchv1.JobConditionType, status corev1.ConditionStatus) batchv1.JobCondition {
		return batchv1.JobCondition{Type: typ, Status: status, Reason: "R", Message: "M"}
	}
	for _, tc := range []struct {
		name  string
		conds []batchv1.JobCondition
		want  jobOutcome
	}{
		{"no conditions", nil, jobActive},
		{"complete", []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue), cond(batchv1.JobComplete, corev1.ConditionTrue)}, jobSucceeded},
		{"only success criteria met", []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue)}, jobActive},
		{"failure target only", []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue)}, jobActive},
		{"failed", []batchv1.JobCondition{cond(batchv1.JobFailed, corev1.ConditionTrue)}, jobFailed},
		{"failed false", []batchv1.JobCondition{cond(batchv1.JobFailed, corev1.ConditionFalse)}, jobActive},
	} {
		got, _, _ := outcomeOf(&batchv1.Job{Status: batchv1.JobStatus{Conditions: tc.conds}})
		if got != tc.want {
			t.Errorf("%s: outcome = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// A commandsIter task's Job runs its own combination of values.
func TestNewJobOfCommandsIter(t *testing.T) {
	e := newExecution("exec-iter", v1alpha1.Task{Name: "a", Type: v1alpha1.TaskTypeJob, Image: "bwa",
		CommandsIter: &v1alpha1.CommandsIter{Command: "bwa mem ${1} ${2}", VarsIter: [][]string{{"s1", "s2"}, {"chr1", "chr2", "chr3"}}}})
	g, err := buildGraph(e)
	if err != nil {
		t.Fatal(err)
	}
	if g.Jobs(0) != 6 {
		t.Fatalf("%d jobs, want 6", g.Jobs(0))
	}
	if got := newJob(e, g, 0, 4).Spec.Template.Spec.Containers[0].Command; !slices.Equal(got, []string{"sh", "-c", "bwa mem s1 chr3"}) {
		t.Errorf("job 4 runs %q, want bwa mem s1 chr3", got)
	}
}
