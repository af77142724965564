package execution

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/dag"
)

// ControllerUser is the identity under which the server's own controller
// reads and writes Executions (impersonated through the loopback client).
// The controller works from the compact stored status, so what it reads is
// served without status.vertices: rendering them into every event it
// watches would cost the server more than everything else the controller
// does (about half a megabyte per status write of a 1,000-job Execution).
const ControllerUser = "system:kubegene:execution-controller"

// readScope says how much of status.vertices a read renders.
type readScope int

const (
	// readCompact renders nothing: the controller's reads, tables and
	// metadata-only reads.
	readCompact readScope = iota
	// readOne renders one Execution up to RenderLimits.MaxVertices: a GET,
	// the response to a write, a watch of one Execution by name.
	readOne
	// readMany renders several within RenderLimits.MaxVerticesPerList per
	// response: a list, or an event of a watch of many.
	readMany
	// readOneUncached is readOne for the response to a dry run, whose
	// object has a stored resourceVersion but a status that was not
	// stored: its render must not be kept for others.
	readOneUncached
)

// unlessDryRun turns readOne into readOneUncached for a dry-run write.
func (s readScope) unlessDryRun(dryRun []string) readScope {
	if s == readOne && len(dryRun) > 0 {
		return readOneUncached
	}
	return s
}

// renderer renders status.vertices into copies of objects read from
// storage, at most once per Execution and resourceVersion for all readers.
type renderer struct {
	limits   RenderLimits
	cache    *renderCache
	inflight singleflight.Group
	// rendered and reused count renders and cache hits, for metrics and
	// tests.
	rendered, reused atomic.Int64
}

func newRenderer(limits RenderLimits) *renderer {
	registerMetrics()
	return &renderer{limits: limits, cache: newRenderCache(limits.CacheVertices)}
}

// scope returns how much the read of ctx renders; opts are the list or
// watch options of a collection read, nil for a read of one object.
func (r *renderer) scope(ctx context.Context, opts *metainternalversion.ListOptions) readScope {
	if u, ok := genericapirequest.UserFrom(ctx); ok && u.GetName() == ControllerUser {
		return readCompact
	}
	if withoutVertices(ctx) {
		return readCompact
	}
	if opts == nil {
		return readOne
	}
	if opts.FieldSelector != nil {
		if _, byName := opts.FieldSelector.RequiresExactMatch("metadata.name"); byName {
			return readOne
		}
	}
	return readMany
}

// result returns what to answer for a storage call's result: obj itself
// for a compact read or an error, else a copy with status.vertices.
func (r *renderer) result(scope readScope, obj runtime.Object, err error) (runtime.Object, error) {
	if err != nil || scope == readCompact {
		return obj, err
	}
	return r.object(scope, obj), nil
}

// object returns a rendered copy of obj, which may be shared with the watch
// cache or wrapped as a runtime.CacheableObject, and is never mutated.
func (r *renderer) object(scope readScope, obj runtime.Object) runtime.Object {
	if c, ok := obj.(runtime.CacheableObject); ok {
		obj = c.GetObject()
	}
	budget := r.limits.MaxVerticesPerList
	switch o := obj.(type) {
	case *execution.Execution:
		switch scope {
		case readOne:
			return r.execution(o, nil)
		case readOneUncached:
			// A key that names no stored state: rendered, not kept.
			uncached := *o
			uncached.ResourceVersion = ""
			out := r.execution(&uncached, nil)
			out.ResourceVersion = o.ResourceVersion
			return out
		}
		return r.execution(o, &budget)
	case *execution.ExecutionList:
		out := *o
		out.Items = make([]execution.Execution, len(o.Items))
		for i := range o.Items {
			out.Items[i] = *r.execution(&o.Items[i], &budget)
		}
		return &out
	}
	return obj
}

// execution renders e into a shallow copy: everything it sets is new, the
// rest is shared with e and only read. A non-nil budget is what is left of
// the response's vertices; e's are taken from it when they fit.
func (r *renderer) execution(e *execution.Execution, budget *int) *execution.Execution {
	out := *e
	stripRendered(&out.Status)
	key := renderKey{uid: e.UID, resourceVersion: e.ResourceVersion}
	vertices, cached := r.cache.get(key)
	if !cached {
		g, _ := execution.BuildGraph(e)
		if g == nil {
			return &out
		}
		if omitTooLarge(&out, g, r.limits) {
			vertexRenders.WithLabelValues(renderOmitted).Inc()
			return &out
		}
		if budget != nil && g.TotalJobs() > *budget {
			r.omitOverBudget(&out)
			return &out
		}
		vertices = r.renderOnce(key, e, g)
	} else {
		if budget != nil && len(vertices) > *budget {
			r.omitOverBudget(&out)
			return &out
		}
		r.countReused()
	}
	if budget != nil {
		*budget -= len(vertices)
	}
	out.Status.Vertices = vertices
	return &out
}

// renderOnce renders e's vertices, once for all readers that ask at the
// same time, and keeps them for later ones.
func (r *renderer) renderOnce(key renderKey, e *execution.Execution, g *dag.Graph) map[string]execution.Vertex {
	if !key.valid() {
		r.countRendered()
		return renderVertices(e, g)
	}
	rendered := false
	v, _, _ := r.inflight.Do(string(key.uid)+"/"+key.resourceVersion, func() (any, error) {
		if vertices, ok := r.cache.get(key); ok {
			return vertices, nil // rendered by a reader that just finished
		}
		vertices := renderVertices(e, g)
		rendered = true
		r.countRendered()
		r.cache.add(key, vertices)
		return vertices, nil
	})
	if !rendered {
		// Another reader's render, shared while it ran or just after.
		r.countReused()
	}
	return v.(map[string]execution.Vertex)
}

func (r *renderer) countReused() {
	r.reused.Add(1)
	vertexRenders.WithLabelValues(renderReused).Inc()
}

func (r *renderer) countRendered() {
	r.rendered.Add(1)
	vertexRenders.WithLabelValues(renderRendered).Inc()
}

func (r *renderer) omitOverBudget(e *execution.Execution) {
	vertexRenders.WithLabelValues(renderOmitted).Inc()
	omitVertices(e, reasonOverListBudget, fmt.Sprintf(
		"status.vertices is omitted: a list or watch of executions renders at most %d vertices per response; %s",
		r.limits.MaxVerticesPerList, verticesElsewhereHint))
}

// renderKey names one state of one Execution: the rendered vertices of an
// object are a function of its spec and stored status, which change only
// with its resourceVersion.
type renderKey struct {
	uid             types.UID
	resourceVersion string
}

// valid reports whether the key names a stored state; objects that were
// never stored (in tests) are rendered each time.
func (k renderKey) valid() bool { return k.uid != "" && k.resourceVersion != "" }

// renderCache keeps recently rendered vertices, least recently used out
// first, bounded by their total number. Maps in it are shared by every
// response that serves them and never written after they are added.
type renderCache struct {
	mu      sync.Mutex
	max     int
	size    int
	order   *list.List // of *renderEntry, most recently used first
	entries map[renderKey]*list.Element
}

type renderEntry struct {
	key      renderKey
	vertices map[string]execution.Vertex
}

func newRenderCache(maxVertices int) *renderCache {
	return &renderCache{max: maxVertices, order: list.New(), entries: make(map[renderKey]*list.Element)}
}

func (c *renderCache) get(key renderKey) (map[string]execution.Vertex, bool) {
	if !key.valid() {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*renderEntry).vertices, true
}

func (c *renderCache) add(key renderKey, vertices map[string]execution.Vertex) {
	if !key.valid() || len(vertices) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return // rendered concurrently by another reader
	}
	c.entries[key] = c.order.PushFront(&renderEntry{key: key, vertices: vertices})
	c.size += len(vertices)
	for c.size > c.max {
		oldest := c.order.Back()
		entry := oldest.Value.(*renderEntry)
		c.order.Remove(oldest)
		delete(c.entries, entry.key)
		c.size -= len(entry.vertices)
	}
}
