package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// vertexRenders reads the server's kubegene_apiserver_vertex_renders_total
// by result.
func vertexRenders(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	body, err := ts.Client.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("reading /metrics: %v", err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `kubegene_apiserver_vertex_renders_total{result="`)
		if !ok {
			continue
		}
		result, value, _ := strings.Cut(rest, `"} `)
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[result] = v
	}
	return out
}

// Tables (kubectl get) and metadata-only reads (the garbage collector, the
// quota controller) are answered from the compact status: the server does
// not render vertices for them. Object reads render once per
// resourceVersion and reuse that render.
func TestTablesAndMetadataAreServedWithoutRendering(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	start := vertexRenders(t, ts)
	// The response to the create renders the new Execution.
	if _, err := ts.Client.ExecutionV1alpha1().Executions("default").Create(ctx, example(t, "exec-whole"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := vertexRenders(t, ts)
	if got := before[renderedLabel] - start[renderedLabel]; got != 1 {
		t.Errorf("create: %v renders, want 1", got)
	}
	reads := []struct{ what, name, accept string }{
		{"kubectl get (table)", "", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"},
		{"kubectl get NAME (table)", "exec-whole", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
		{"metadata list", "", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"},
		{"metadata of one", "exec-whole", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"},
	}
	for _, r := range reads {
		req := restClient(t, ts).Get().Namespace("default").Resource("executions").SetHeader("Accept", r.accept)
		if r.name != "" {
			req = req.Name(r.name)
		}
		body, err := req.DoRaw(ctx)
		if err != nil {
			t.Fatalf("%s: %v", r.what, err)
		}
		var kind struct{ Kind string }
		if err := json.Unmarshal(body, &kind); err != nil || !strings.HasPrefix(kind.Kind, strings.Split(strings.Split(r.accept, "as=")[1], ";")[0]) {
			t.Errorf("%s: answered %q (%v), not the representation asked for", r.what, kind.Kind, err)
		}
		if bytes.Contains(body, []byte("vertices")) {
			t.Errorf("%s: the answer holds vertices: %.300s", r.what, body)
		}
	}
	if after := vertexRenders(t, ts); after[renderedLabel]+after[reusedLabel] != before[renderedLabel]+before[reusedLabel] {
		t.Errorf("table and metadata reads rendered: renders %v before, %v after", before, after)
	}

	// Object reads of the same state reuse the create's render.
	for i := range 2 {
		e, err := ts.Client.ExecutionV1alpha1().Executions("default").Get(ctx, "exec-whole", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertVertices(t, e, v1alpha1.PhasePending, "")
		after := vertexRenders(t, ts)
		if got := after[renderedLabel] - before[renderedLabel]; got != 0 {
			t.Errorf("object read %d: %v renders, want none", i+1, got)
		}
		if got := after[reusedLabel] - before[reusedLabel]; got != float64(i+1) {
			t.Errorf("object read %d: %v reuses in all, want %d", i+1, got, i+1)
		}
	}
}

const (
	renderedLabel = "rendered"
	reusedLabel   = "reused"
)
