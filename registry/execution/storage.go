package execution

import (
	"context"
	"fmt"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
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
	Retry     *RetryREST
}

// NewStorage returns the REST storage of executions, executions/status,
// executions/graph and executions/retry.
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

	r := newRenderer(opts.Render)
	return Storage{
		Execution: &REST{Store: store, renderer: r},
		Status:    &StatusREST{store: &statusStore, renderer: r},
		Graph:     &GraphREST{store: store, limits: opts.Graph},
		Retry:     &RetryREST{store: &statusStore},
	}, nil
}

// REST is the storage of the executions resource. The objects it returns
// carry status.vertices rendered on read (see readScope), except to the
// controller and to readers of tables and metadata.
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
	obj, err := r.Store.Get(ctx, name, options)
	return r.renderer.result(r.renderer.scope(ctx, nil), obj, err)
}

func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	obj, err := r.Store.List(ctx, options)
	return r.renderer.result(r.renderer.scope(ctx, options), obj, err)
}

func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	out, err := r.Store.Create(ctx, obj, createValidation, options)
	var dryRun []string
	if options != nil {
		dryRun = options.DryRun
	}
	return r.renderer.result(r.renderer.scope(ctx, nil).unlessDryRun(dryRun), out, err)
}

func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, created, err := r.Store.Update(ctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
	obj, err = r.renderer.result(r.renderer.scope(ctx, nil).unlessDryRun(dryRunOf(options)), obj, err)
	return obj, created, err
}

func dryRunOf(options *metav1.UpdateOptions) []string {
	if options == nil {
		return nil
	}
	return options.DryRun
}

// Watch renders each event's object: every watcher of an event shares one
// render through the renderer's cache.
func (r *REST) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	w, err := r.Store.Watch(ctx, options)
	scope := r.renderer.scope(ctx, options)
	if err != nil || scope == readCompact {
		return w, err
	}
	return watch.Filter(w, func(in watch.Event) (watch.Event, bool) {
		if in.Type != watch.Bookmark && in.Type != watch.Error {
			in.Object = r.renderer.object(scope, in.Object)
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
	obj, err := r.store.Get(ctx, name, options)
	return r.renderer.result(r.renderer.scope(ctx, nil), obj, err)
}

func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status writes never create an Execution.
	obj, created, err := r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
	obj, err = r.renderer.result(r.renderer.scope(ctx, nil).unlessDryRun(dryRunOf(options)), obj, err)
	return obj, created, err
}

// GetResetFields implements rest.ResetFieldsStrategy.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
