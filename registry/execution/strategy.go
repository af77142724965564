// Package execution holds the REST storage of Executions: strategies that
// validate and shape writes, the status and graph subresources, the kubectl
// table, and the rendering of status.vertices on every read.
package execution

import (
	"context"
	"fmt"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/validation"
)

// executionStrategy implements the behaviour of the main resource: users
// write the spec, never the status.
type executionStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	limits validation.Options
}

func newStrategy(typer runtime.ObjectTyper, limits validation.Options) executionStrategy {
	return executionStrategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, limits: limits}
}

func (executionStrategy) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that the main resource never
// changes status, so status is not owned by spec writers.
func (executionStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"execution.kubegene.io/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate starts every Execution Pending with no recorded progress,
// whatever status the client sent.
func (executionStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	e := obj.(*execution.Execution)
	e.Status = execution.ExecutionStatus{Phase: execution.PhasePending}
	e.Generation = 1
	delete(e.Annotations, execution.CreatedByAnnotation)
	e.Spec.Creator = nil
	if u, ok := genericapirequest.UserFrom(ctx); ok && u.GetName() != "" {
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[execution.CreatedByAnnotation] = u.GetName()
		e.Spec.Creator = creatorOf(u)
	}
}

// creatorOf records who creates an Execution, everything an authorizer
// needs to decide for them later: the controller checks with it that they
// may still create Jobs.
func creatorOf(u user.Info) *execution.UserInfo {
	info := &execution.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: slices.Clone(u.GetGroups())}
	for k, v := range u.GetExtra() {
		if info.Extra == nil {
			info.Extra = map[string]execution.ExtraValue{}
		}
		info.Extra[k] = slices.Clone(v)
	}
	return info
}

// keepCreator restores the creator annotation and spec.creator of old on
// e: only the server writes them.
func keepCreator(e, old *execution.Execution) {
	e.Spec.Creator = old.Spec.Creator
	creator, ok := old.Annotations[execution.CreatedByAnnotation]
	if !ok {
		delete(e.Annotations, execution.CreatedByAnnotation)
		return
	}
	if e.Annotations == nil {
		e.Annotations = map[string]string{}
	}
	e.Annotations[execution.CreatedByAnnotation] = creator
}

// PrepareForUpdate keeps the stored status: it changes only through /status.
func (executionStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	newE, oldE := obj.(*execution.Execution), old.(*execution.Execution)
	newE.Status = oldE.Status
	newE.Generation = oldE.Generation
	keepCreator(newE, oldE)
	if !apiequality.Semantic.DeepEqual(newE.Spec, oldE.Spec) {
		// spec.suspend changed (validation refuses any other change).
		newE.Generation++
	}
}

func (s executionStrategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateExecution(obj.(*execution.Execution), s.limits)
}

func (executionStrategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return nil
}

func (executionStrategy) AllowCreateOnUpdate(context.Context) bool { return false }

func (executionStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }

func (executionStrategy) Canonicalize(obj runtime.Object) {}

func (executionStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateExecutionUpdate(obj.(*execution.Execution), old.(*execution.Execution))
}

func (executionStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// statusStrategy implements the status subresource: the controller writes
// the compact progress, never the spec, and never the rendered vertices.
type statusStrategy struct {
	executionStrategy
}

// GetResetFields tells server-side apply that /status never changes spec or
// metadata other than what the status subresource owns.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"execution.kubegene.io/v1alpha1": fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"),
			// Rendered on read: never owned by a writer, never in managedFields.
			fieldpath.MakePathOrDie("status", "vertices"),
			fieldpath.MakePathOrDie("metadata", "labels"),
			fieldpath.MakePathOrDie("metadata", "annotations"),
		),
	}
}

// PrepareForUpdate keeps spec and metadata and drops everything rendered on
// read, so a client echoing a read status back cannot persist it.
func (statusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	newE, oldE := obj.(*execution.Execution), old.(*execution.Execution)
	newE.Spec = oldE.Spec
	newE.Labels = oldE.Labels
	newE.Annotations = oldE.Annotations
	stripRendered(&newE.Status)
}

func (statusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateExecutionStatusUpdate(obj.(*execution.Execution), old.(*execution.Execution))
}

func (statusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// GetAttrs returns the labels and selectable fields of an Execution.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, ok := obj.(*execution.Execution)
	if !ok {
		return nil, nil, fmt.Errorf("not an Execution: %T", obj)
	}
	return e.Labels, selectableFields(e), nil
}

// selectableFields are the fields `kubectl get --field-selector` can use.
func selectableFields(e *execution.Execution) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{
		"status.phase": string(e.Status.Phase),
	}, &e.ObjectMeta, true)
}

// matchExecution is the filter used by list and watch.
func matchExecution(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
