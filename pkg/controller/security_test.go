package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// restrictedSecurityContext passes Pod Security "restricted".
func restrictedSecurityContext() *v1alpha1.SecurityContext {
	return &v1alpha1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To[int64](1000),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		FSGroup:                  ptr.To[int64](2000),
	}
}

func TestSecurityContexts(t *testing.T) {
	for _, tc := range []struct {
		name            string
		execution, task *v1alpha1.SecurityContext
		wantPod         *corev1.PodSecurityContext
		wantContainer   *corev1.SecurityContext
	}{
		{name: "nothing set"},
		{name: "empty on both", execution: &v1alpha1.SecurityContext{}, task: &v1alpha1.SecurityContext{}},
		{name: "the execution's only, split between pod and container",
			execution: restrictedSecurityContext(),
			wantPod:   &corev1.PodSecurityContext{FSGroup: ptr.To[int64](2000)},
			wantContainer: &corev1.SecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000), AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}},
		{name: "the task's only",
			task:          &v1alpha1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true), RunAsGroup: ptr.To[int64](3000)},
			wantContainer: &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true), RunAsGroup: ptr.To[int64](3000)}},
		{name: "pod fields only",
			execution: &v1alpha1.SecurityContext{SupplementalGroups: []int64{5, 6}},
			wantPod:   &corev1.PodSecurityContext{SupplementalGroups: []int64{5, 6}}},
		{name: "the task's fields override the execution's, field by field",
			execution: restrictedSecurityContext(),
			task: &v1alpha1.SecurityContext{
				RunAsUser:          ptr.To[int64](1001),
				RunAsNonRoot:       ptr.To(false), // false is set, not unset
				Capabilities:       &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}},
				SeccompProfile:     &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("p.json")},
				SupplementalGroups: []int64{7},
			},
			wantPod: &corev1.PodSecurityContext{FSGroup: ptr.To[int64](2000), SupplementalGroups: []int64{7}},
			wantContainer: &corev1.SecurityContext{
				RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](1001), AllowPrivilegeEscalation: ptr.To(false),
				// Capabilities are one field: the task's replace the execution's drop list.
				Capabilities:   &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("p.json")},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			execBefore, taskBefore := tc.execution.DeepCopy(), tc.task.DeepCopy()
			pod, container := securityContexts(tc.execution, tc.task)
			if !apiequality.Semantic.DeepEqual(pod, tc.wantPod) {
				t.Errorf("pod securityContext (-want +got):\n%s", diff.Diff(tc.wantPod, pod))
			}
			if !apiequality.Semantic.DeepEqual(container, tc.wantContainer) {
				t.Errorf("container securityContext (-want +got):\n%s", diff.Diff(tc.wantContainer, container))
			}
			if !apiequality.Semantic.DeepEqual(tc.execution, execBefore) || !apiequality.Semantic.DeepEqual(tc.task, taskBefore) {
				t.Errorf("the inputs changed: %+v %+v", tc.execution, tc.task)
			}
		})
	}
}

// The Job shares no pointer or slice with the Execution, which comes from
// the informer cache: changing the Job's security context leaves it alone.
func TestNewJobSecurityContextIsACopy(t *testing.T) {
	a, b := task("a", 1), task("b", 1, whole("a"))
	b.SecurityContext = &v1alpha1.SecurityContext{RunAsUser: ptr.To[int64](1001), SupplementalGroups: []int64{7}}
	e := newExecution("exec-sc", a, b)
	e.Spec.SecurityContext = restrictedSecurityContext()
	before := e.DeepCopy()
	g, err := buildGraph(e)
	if err != nil {
		t.Fatal(err)
	}

	for ti, wantUser := range []int64{1000, 1001} {
		job := newJob(e, g, ti, 0)
		pod := &job.Spec.Template.Spec
		c := pod.Containers[0].SecurityContext
		if c == nil || pod.SecurityContext == nil {
			t.Fatalf("task %d: pod securityContext %+v, container %+v", ti, pod.SecurityContext, c)
		}
		if *c.RunAsUser != wantUser || !*c.RunAsNonRoot || *c.AllowPrivilegeEscalation ||
			c.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || *pod.SecurityContext.FSGroup != 2000 {
			t.Errorf("task %d: pod %+v, container %+v", ti, pod.SecurityContext, c)
		}
		*c.RunAsUser, *c.RunAsNonRoot, *c.AllowPrivilegeEscalation = 0, false, true
		c.Capabilities.Drop[0] = "NONE"
		c.SeccompProfile.Type = corev1.SeccompProfileTypeUnconfined
		*pod.SecurityContext.FSGroup = 0
		for i := range pod.SecurityContext.SupplementalGroups {
			pod.SecurityContext.SupplementalGroups[i] = 0
		}
	}
	if !apiequality.Semantic.DeepEqual(e, before) {
		t.Errorf("the execution changed (-before +after):\n%s", diff.Diff(before, e))
	}
}

// Without a securityContext the Jobs have none, as before it existed.
func TestNewJobWithoutSecurityContext(t *testing.T) {
	e := newExecution("exec-plain", task("a", 1))
	g, err := buildGraph(e)
	if err != nil {
		t.Fatal(err)
	}
	pod := newJob(e, g, 0, 0).Spec.Template.Spec
	if pod.SecurityContext != nil || pod.Containers[0].SecurityContext != nil {
		t.Errorf("pod securityContext %+v, container %+v, want none", pod.SecurityContext, pod.Containers[0].SecurityContext)
	}
}
