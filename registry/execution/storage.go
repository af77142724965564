package execution

import (
	"context"
	"fmt"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/validation"
)

// Options configure the storage of Executions.
type Options struct {
	Validation validation.Options
	Render     RenderLimits
	Graph      GraphLimits
}

// DefaultOptions are the options used unless the server is told otherwise.
func DefaultOptions() Options {
	return Options{Validation: validation.DefaultOptions(), Render: DefaultRenderLimits(), Graph: DefaultGraphLimits()}
}

// Storage is the REST storage of executions and their subresources.
type Storage struct {
	Execution *REST
	Status    *StatusREST
	Graph     *GraphREST
}

// NewStorage returns the REST storage of executions, executions/status and
// executions/graph.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, opts Options) (Storage, error) {
	strategy := newStrategy(scheme, opts.Validation)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &execution.Execution{} },
		NewListFunc:               func() runtime.Object { return &execution.ExecutionList{} },
		PredicateFunc:             matchExecution,
		DefaultQualifiedResource:  execution.Resource("executions"),
		SingularQualifiedResource: execution.Resource("execution"),

		CreateStrategy:      strategy,
		UpdateStrategy:      strategy,
		DeleteStrategy:      strategy,
		ResetFieldsStrategy: strategy,

		TableConvertor: tableConvertor{},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return Storage{}, fmt.Errorf("setting up execution storage: %w", err)
	}

	statusStore := *store
	status := statusStrategy{strategy}
	statusStore.UpdateStrategy = status
	statusStore.ResetFieldsStrategy = status

	r := &renderer{limits: opts.Render}
	return Storage{
		Execution: &REST{Store: store, renderer: r},
		Status:    &StatusREST{store: &statusStore, renderer: r},
		Graph:     &GraphREST{store: store, limits: opts.Graph},
	}, nil
}

// ControllerUser is the identity under which the server's own controller
// reads and writes Executions (impersonated through the loopback client).
// The controller works from the compact stored status, so what it reads is
// served without status.vertices: rendering them into every event it
// watches would cost the server more than everything else the controller
// does (about half a megabyte per status write of a 1,000-job Execution).
const ControllerUser = "system:kubegene:execution-controller"

// renderer renders status.vertices into copies of objects read from storage.
type renderer struct {
	limits RenderLimits
}

// renders reports whether the request of ctx is answered with rendered
// vertices: every request but the controller's.
func (r *renderer) renders(ctx context.Context) bool {
	u, ok := genericapirequest.UserFrom(ctx)
	return !ok || u.GetName() != ControllerUser
}

// object returns a rendered deep copy of obj, which may be shared with the
// watch cache or wrapped as a runtime.CacheableObject, and is never mutated.
func (r *renderer) object(obj runtime.Object) runtime.Object {
	if c, ok := obj.(runtime.CacheableObject); ok {
		obj = c.GetObject()
	}
	switch o := obj.(type) {
	case *execution.Execution:
		out := o.DeepCopy()
		render(out, r.limits)
		return out
	case *execution.ExecutionList:
		out := o.DeepCopy()
		for i := range out.Items {
			render(&out.Items[i], r.limits)
		}
		return out
	}
	return obj
}

// forRequest returns what to do with the result of a storage call made for
// the request of ctx: render it, or pass it on.
func (r *renderer) forRequest(ctx context.Context) func(runtime.Object, error) (runtime.Object, error) {
	render := r.renders(ctx)
	return func(obj runtime.Object, err error) (runtime.Object, error) {
		if err != nil || !render {
			return obj, err
		}
		return r.object(obj), nil
	}
}

// REST is the storage of the executions resource. Every object it returns
// carries a freshly rendered status.vertices, except to the controller.
type REST struct {
	*genericregistry.Store
	renderer *renderer
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames lets users type `kubectl get exec`.
func (r *REST) ShortNames() []string { return []string{"exec"} }

// Categories lets users list every KubeGene object with `kubectl get kubegene`.
func (r *REST) Categories() []string { return []string{"kubegene"} }

func (r *REST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.renderer.forRequest(ctx)(r.Store.Get(ctx, name, options))
}

func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	return r.renderer.forRequest(ctx)(r.Store.List(ctx, options))
}

func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.renderer.forRequest(ctx)(r.Store.Create(ctx, obj, createValidation, options))
}

func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, created, err := r.Store.Update(ctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
	obj, err = r.renderer.forRequest(ctx)(obj, err)
	return obj, created, err
}

func (r *REST) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	w, err := r.Store.Watch(ctx, options)
	if err != nil || !r.renderer.renders(ctx) {
		return w, err
	}
	return watch.Filter(w, func(in watch.Event) (watch.Event, bool) {
		if in.Type != watch.Bookmark && in.Type != watch.Error {
			in.Object = r.renderer.object(in.Object)
		}
		return in, true
	}), nil
}

// StatusREST is the storage of executions/status, written by the controller.
type StatusREST struct {
	store    *genericregistry.Store
	renderer *renderer
}

var _ rest.Patcher = &StatusREST{}

// New creates a new Execution.
func (r *StatusREST) New() runtime.Object { return &execution.Execution{} }

// Destroy cleans up resources on shutdown; the main store owns them.
func (r *StatusREST) Destroy() {}

func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.renderer.forRequest(ctx)(r.store.Get(ctx, name, options))
}

func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status writes never create an Execution.
	obj, created, err := r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
	obj, err = r.renderer.forRequest(ctx)(obj, err)
	return obj, created, err
}

// GetResetFields implements rest.ResetFieldsStrategy.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
