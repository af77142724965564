package controller

import (
	corev1 "k8s.io/api/core/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// securityContexts returns the pod's and the container's security context
// of a job of a task: the task's securityContext over the Execution's, field
// by field (a field the task leaves nil is the Execution's; capabilities
// and seccompProfile are fields as a whole, not merged inside). fsGroup and
// supplementalGroups go to the pod, the other fields to the container. Each
// is nil when none of its fields is set, so Jobs of Executions without a
// securityContext are as before. Everything is copied: the Execution comes
// from the informer cache.
func securityContexts(execution, task *v1alpha1.SecurityContext) (*corev1.PodSecurityContext, *corev1.SecurityContext) {
	sc := mergeSecurityContext(execution, task)
	if sc == nil {
		return nil, nil
	}
	var pod *corev1.PodSecurityContext
	if sc.FSGroup != nil || sc.SupplementalGroups != nil {
		pod = &corev1.PodSecurityContext{FSGroup: sc.FSGroup, SupplementalGroups: sc.SupplementalGroups}
	}
	var container *corev1.SecurityContext
	if sc.RunAsUser != nil || sc.RunAsGroup != nil || sc.RunAsNonRoot != nil || sc.SeccompProfile != nil ||
		sc.AllowPrivilegeEscalation != nil || sc.Capabilities != nil || sc.ReadOnlyRootFilesystem != nil {
		container = &corev1.SecurityContext{
			RunAsUser:                sc.RunAsUser,
			RunAsGroup:               sc.RunAsGroup,
			RunAsNonRoot:             sc.RunAsNonRoot,
			SeccompProfile:           sc.SeccompProfile,
			AllowPrivilegeEscalation: sc.AllowPrivilegeEscalation,
			Capabilities:             sc.Capabilities,
			ReadOnlyRootFilesystem:   sc.ReadOnlyRootFilesystem,
		}
	}
	return pod, container
}

// mergeSecurityContext returns a deep copy of base with every field that
// over sets replaced by a deep copy of over's; nil if both are nil.
func mergeSecurityContext(base, over *v1alpha1.SecurityContext) *v1alpha1.SecurityContext {
	if base == nil && over == nil {
		return nil
	}
	m := base.DeepCopy()
	if m == nil {
		m = &v1alpha1.SecurityContext{}
	}
	if over == nil {
		return m
	}
	o := over.DeepCopy()
	override(&m.RunAsUser, o.RunAsUser)
	override(&m.RunAsGroup, o.RunAsGroup)
	override(&m.RunAsNonRoot, o.RunAsNonRoot)
	override(&m.SeccompProfile, o.SeccompProfile)
	override(&m.AllowPrivilegeEscalation, o.AllowPrivilegeEscalation)
	override(&m.Capabilities, o.Capabilities)
	override(&m.ReadOnlyRootFilesystem, o.ReadOnlyRootFilesystem)
	override(&m.FSGroup, o.FSGroup)
	if o.SupplementalGroups != nil {
		m.SupplementalGroups = o.SupplementalGroups
	}
	return m
}

// override sets *field to value if value is set.
func override[T any](field **T, value *T) {
	if value != nil {
		*field = value
	}
}
