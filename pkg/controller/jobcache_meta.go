package controller

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// A cachedJob is a runtime.Object and a metav1.Object so that client-go's
// cache can key, compare and copy it. It keeps the name, namespace, UID,
// resourceVersion and deletion timestamp of a Job; it has no other
// metadata, and setting any is ignored. The controller reads the record's
// fields directly, and the interned namespace through GetNamespace.
var (
	_ runtime.Object = &cachedJob{}
	_ metav1.Object  = &cachedJob{}
)

// GetObjectKind implements runtime.Object: a cachedJob is not serialized.
func (j *cachedJob) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object.
func (j *cachedJob) DeepCopyObject() runtime.Object {
	out := *j
	out.deletionTimestamp = j.deletionTimestamp.DeepCopy()
	if j.failure != nil {
		failure := *j.failure
		out.failure = &failure
	}
	return &out
}

func (j *cachedJob) GetNamespace() string                  { return valueOf(j.namespace) }
func (j *cachedJob) SetNamespace(namespace string)         { j.namespace = unique.Make(namespace) }
func (j *cachedJob) GetName() string                       { return j.name }
func (j *cachedJob) SetName(name string)                   { j.name = name }
func (j *cachedJob) GetUID() types.UID                     { return j.uid }
func (j *cachedJob) SetUID(uid types.UID)                  { j.uid = uid }
func (j *cachedJob) GetResourceVersion() string            { return j.resourceVersion }
func (j *cachedJob) SetResourceVersion(version string)     { j.resourceVersion = version }
func (j *cachedJob) GetDeletionTimestamp() *metav1.Time    { return j.deletionTimestamp }
func (j *cachedJob) SetDeletionTimestamp(ts *metav1.Time)  { j.deletionTimestamp = ts }
func (j *cachedJob) GetGenerateName() string               { return "" }
func (j *cachedJob) SetGenerateName(string)                {}
func (j *cachedJob) GetGeneration() int64                  { return 0 }
func (j *cachedJob) SetGeneration(int64)                   {}
func (j *cachedJob) GetSelfLink() string                   { return "" }
func (j *cachedJob) SetSelfLink(string)                    {}
func (j *cachedJob) GetCreationTimestamp() metav1.Time     { return metav1.Time{} }
func (j *cachedJob) SetCreationTimestamp(metav1.Time)      {}
func (j *cachedJob) GetDeletionGracePeriodSeconds() *int64 { return nil }
func (j *cachedJob) SetDeletionGracePeriodSeconds(*int64)  {}
func (j *cachedJob) GetLabels() map[string]string          { return nil }
func (j *cachedJob) SetLabels(map[string]string)           {}
func (j *cachedJob) GetAnnotations() map[string]string     { return nil }
func (j *cachedJob) SetAnnotations(map[string]string)      {}
func (j *cachedJob) GetFinalizers() []string               { return nil }
func (j *cachedJob) SetFinalizers([]string)                {}
func (j *cachedJob) GetOwnerReferences() []metav1.OwnerReference {
	return nil
}
func (j *cachedJob) SetOwnerReferences([]metav1.OwnerReference)    {}
func (j *cachedJob) GetManagedFields() []metav1.ManagedFieldsEntry { return nil }
func (j *cachedJob) SetManagedFields([]metav1.ManagedFieldsEntry)  {}
