package execution

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"kubegene.io/kubegene/apis/execution"
)

// Accept headers as real clients send them.
const (
	acceptKubectlGet = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	acceptMetadata   = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
	acceptObject     = "application/json, */*"
)

// contextFor returns the context the storage sees for a request with this
// Accept header, after WithRepresentation.
func contextFor(t *testing.T, accept string) context.Context {
	t.Helper()
	var ctx context.Context
	h := WithRepresentation(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) { ctx = req.Context() }), testCodecs)
	req := httptest.NewRequest(http.MethodGet, "/apis/execution.kubegene.io/v1alpha1/namespaces/default/executions", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	return ctx
}

func TestRepresentationFromAccept(t *testing.T) {
	tests := []struct {
		name, accept string
		compact      bool
	}{
		{"kubectl get (table)", acceptKubectlGet, true},
		{"table as yaml", "application/yaml;as=Table;v=v1;g=meta.k8s.io", true},
		{"garbage collector and quota (metadata list)", acceptMetadata, true},
		{"metadata of one object", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1", true},
		{"kubectl get -o yaml (object)", acceptObject, false},
		{"no Accept header", "", false},
		{"a table the group cannot encode falls back to the object", "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json", false},
		{"an unknown transform is not a table", "application/json;as=Other;v=v1;g=meta.k8s.io,application/json", false},
	}
	for _, tc := range tests {
		if got := withoutVertices(contextFor(t, tc.accept)); got != tc.compact {
			t.Errorf("%s: served without vertices = %v, want %v", tc.name, got, tc.compact)
		}
	}
	// A table that embeds the objects (kubectl get --sort-by) gets them whole.
	var ctx context.Context
	h := WithRepresentation(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) { ctx = req.Context() }), testCodecs)
	req := httptest.NewRequest(http.MethodGet, "/apis/execution.kubegene.io/v1alpha1/executions?includeObject=Object", nil)
	req.Header.Set("Accept", acceptKubectlGet)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if withoutVertices(ctx) {
		t.Error("a table with includeObject=Object is served without vertices")
	}
}

// storedExample is the seed's exec-whole as storage returns it: with a UID
// and resourceVersion, all jobs succeeded.
func storedExample(t *testing.T, name, rv string) *execution.Execution {
	e := loadExample(t, "exec-whole")
	succeededEverywhere(e)
	e.Name, e.UID, e.ResourceVersion = name, types.UID("uid-"+name), rv
	return e
}

// The table and metadata paths hand out the stored object untouched, and
// never run the renderer; the object path renders.
func TestTableAndMetadataReadsNeverRender(t *testing.T) {
	for _, accept := range []string{acceptKubectlGet, acceptMetadata} {
		r := newRenderer(DefaultRenderLimits())
		ctx := contextFor(t, accept)
		e := storedExample(t, "x", "1")
		list := &execution.ExecutionList{Items: []execution.Execution{*e}}
		for _, tc := range []struct {
			obj  runtime.Object
			opts *metainternalversion.ListOptions
		}{{e, nil}, {list, &metainternalversion.ListOptions{}}} {
			out, err := r.result(r.scope(ctx, tc.opts), tc.obj, nil)
			if err != nil || out != tc.obj {
				t.Errorf("Accept %q: the %T read was transformed (%v)", accept, tc.obj, err)
			}
		}
		if n := r.rendered.Load() + r.reused.Load(); n != 0 {
			t.Errorf("Accept %q: the renderer ran %d times", accept, n)
		}
	}

	r := newRenderer(DefaultRenderLimits())
	out, _ := r.result(r.scope(contextFor(t, acceptObject), nil), storedExample(t, "x", "1"), nil)
	if len(out.(*execution.Execution).Status.Vertices) != 4 || r.rendered.Load() != 1 {
		t.Errorf("object read: %d vertices after %d renders, want 4 after 1", len(out.(*execution.Execution).Status.Vertices), r.rendered.Load())
	}
}

func TestControllerReadsAreCompact(t *testing.T) {
	r := newRenderer(DefaultRenderLimits())
	ctx := genericapirequest.WithUser(contextFor(t, acceptObject), &user.DefaultInfo{Name: ControllerUser})
	if got := r.scope(ctx, nil); got != readCompact {
		t.Errorf("the controller's read renders (scope %d)", got)
	}
}

func TestScopeOfCollectionReads(t *testing.T) {
	r := newRenderer(DefaultRenderLimits())
	ctx := contextFor(t, acceptObject)
	byName := &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "x")}
	byPhase := &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("status.phase", "Running")}
	for _, tc := range []struct {
		name string
		opts *metainternalversion.ListOptions
		want readScope
	}{
		{"get", nil, readOne},
		{"list", &metainternalversion.ListOptions{}, readMany},
		{"watch of one by name", byName, readOne},
		{"list by phase", byPhase, readMany},
	} {
		if got := r.scope(ctx, tc.opts); got != tc.want {
			t.Errorf("%s: scope %d, want %d", tc.name, got, tc.want)
		}
	}
}

// A list renders items in order while they fit the budget; the others
// say why they have no vertices and where to read them.
func TestListBudget(t *testing.T) {
	limits := DefaultRenderLimits()
	limits.MaxVerticesPerList = 10 // each item has 4
	r := newRenderer(limits)
	list := &execution.ExecutionList{}
	for i := range 4 {
		list.Items = append(list.Items, *storedExample(t, fmt.Sprintf("e%d", i), "1"))
	}
	out := r.object(readMany, list).(*execution.ExecutionList)
	for i, item := range out.Items {
		cond := meta.FindStatusCondition(item.Status.Conditions, execution.ConditionVerticesRendered)
		if i < 2 {
			if len(item.Status.Vertices) != 4 || cond != nil {
				t.Errorf("item %d: %d vertices, condition %+v; want 4 and none", i, len(item.Status.Vertices), cond)
			}
			continue
		}
		if item.Status.Vertices != nil {
			t.Errorf("item %d: %d vertices past the budget", i, len(item.Status.Vertices))
		}
		if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != reasonOverListBudget ||
			!strings.Contains(cond.Message, "at most 10 vertices per response") || !strings.Contains(cond.Message, "GET the execution by name") {
			t.Errorf("item %d: condition %+v, want VerticesRendered=False %s pointing to GET and the graph", i, cond, reasonOverListBudget)
		}
	}
	for i := range list.Items {
		if list.Items[i].Status.Vertices != nil || list.Items[i].Status.Conditions != nil {
			t.Fatalf("the stored list was changed")
		}
	}

	// The same item read alone renders whatever the list budget.
	one := r.object(readOne, &list.Items[3]).(*execution.Execution)
	if len(one.Status.Vertices) != 4 {
		t.Errorf("a GET past the list budget rendered %d vertices, want 4", len(one.Status.Vertices))
	}
	// A watch event of many carries one object within the same budget.
	limits.MaxVerticesPerList = 3
	small := newRenderer(limits)
	event := small.object(readMany, &list.Items[0]).(*execution.Execution)
	if event.Status.Vertices != nil || meta.FindStatusCondition(event.Status.Conditions, execution.ConditionVerticesRendered) == nil {
		t.Errorf("a watch event over the budget rendered %d vertices", len(event.Status.Vertices))
	}
}

// One render serves every reader of the same Execution at the same
// resourceVersion, concurrent ones included; a new resourceVersion renders
// again.
func TestRenderOncePerResourceVersion(t *testing.T) {
	r := newRenderer(DefaultRenderLimits())
	e := storedExample(t, "x", "1")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if out := r.object(readOne, e).(*execution.Execution); len(out.Status.Vertices) != 4 {
				t.Errorf("rendered %d vertices, want 4", len(out.Status.Vertices))
			}
		})
	}
	wg.Wait()
	if got := r.rendered.Load(); got != 1 {
		t.Errorf("20 reads of one state rendered %d times, want 1", got)
	}
	if got := r.reused.Load(); got != 19 {
		t.Errorf("20 reads of one state reused a render %d times, want 19", got)
	}

	next := storedExample(t, "x", "2")
	next.Status.Tasks[1].Succeeded = "0" // x.b.1 running again
	out := r.object(readOne, next).(*execution.Execution)
	if r.rendered.Load() != 2 || out.Status.Vertices["x.b.1"].Phase != execution.PhaseRunning {
		t.Errorf("a new resourceVersion: %d renders, b.1 %s; want 2 renders, Running", r.rendered.Load(), out.Status.Vertices["x.b.1"].Phase)
	}
}

func TestRenderCacheIsBoundedByVertices(t *testing.T) {
	limits := DefaultRenderLimits()
	limits.CacheVertices = 10 // two of exec-whole's 4
	r := newRenderer(limits)
	for i := range 5 {
		r.object(readOne, storedExample(t, fmt.Sprintf("e%d", i), "1"))
	}
	if r.cache.size > 10 || len(r.cache.entries) != 2 {
		t.Errorf("cache holds %d vertices in %d entries, want at most 10 in 2", r.cache.size, len(r.cache.entries))
	}
	// The most recent ones are kept, the oldest rendered again.
	r.object(readOne, storedExample(t, "e4", "1"))
	r.object(readOne, storedExample(t, "e0", "1"))
	if got := r.rendered.Load(); got != 6 {
		t.Errorf("%d renders, want 6 (5 first reads, e4 from the cache, e0 again)", got)
	}
}

// The response to a dry-run write is rendered but not kept: its status was
// never stored under its resourceVersion.
func TestDryRunRendersAreNotCached(t *testing.T) {
	r := newRenderer(DefaultRenderLimits())
	e := storedExample(t, "x", "7")
	out := r.object(readOne.unlessDryRun([]string{metav1.DryRunAll}), e).(*execution.Execution)
	if len(out.Status.Vertices) != 4 || out.ResourceVersion != "7" {
		t.Errorf("dry-run response: %d vertices, resourceVersion %q", len(out.Status.Vertices), out.ResourceVersion)
	}
	if len(r.cache.entries) != 0 {
		t.Errorf("a dry run's render was cached")
	}
	r.object(readOne.unlessDryRun(nil), e)
	if len(r.cache.entries) != 1 {
		t.Errorf("a real write's render was not cached")
	}
}
