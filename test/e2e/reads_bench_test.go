package e2e

// BenchmarkExecutionAPIVsCRD compares the cost of the execution API with
// what a CRD of the same schema and ConfigMaps cost on the same
// kube-apiserver, in one run: 300 objects of each (the seed's exec-whole),
// created, read, listed and deleted one by one, the three kinds interleaved
// (the order rotating) so that noise on this 2-core machine hits all alike.
// Executions go through the aggregator to execution-apiserver; the CRD and
// ConfigMaps are served by kube-apiserver itself. The controller is off for
// the run (execution-apiserver is restarted without it, and back), so that
// only the API is measured, not Jobs being run for 300 Executions.
//
//	go test -run '^$' -bench ExecutionAPIVsCRD -benchtime 1x ./test/e2e/
//
// Reported: p50 latency (ms) of each operation per kind, and the ratios of
// the Execution's and the ConfigMap's p50 to the CRD's.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned"
	"kubegene.io/kubegene/test/e2e/framework"
	"kubegene.io/kubegene/test/seed"
)

const crdObjects = 300

// benchCRD has the Execution's spec schema, and its status unchecked as
// the execution API's compact status is to a CRD.
const benchCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: benchexecutions.bench.kubegene.io
spec:
  group: bench.kubegene.io
  names: {kind: BenchExecution, plural: benchexecutions, singular: benchexecution, listKind: BenchExecutionList}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parallelism: {type: integer}
              tasks:
                type: array
                items:
                  type: object
                  required: [name, type, image, commands]
                  properties:
                    name: {type: string}
                    type: {type: string}
                    image: {type: string}
                    parallelism: {type: integer}
                    commands: {type: array, items: {type: string}}
                    dependents:
                      type: array
                      nullable: true
                      items:
                        type: object
                        properties:
                          target: {type: string}
                          type: {type: string}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
`

var benchCRDResource = schema.GroupVersionResource{Group: "bench.kubegene.io", Version: "v1alpha1", Resource: "benchexecutions"}

// apiKind is one kind of object the benchmark drives, by its four calls.
type apiKind struct {
	name                 string
	create, get, del     func(ctx context.Context, name string) error
	list                 func(ctx context.Context) (int, error)
	creates, gets, lists []time.Duration
	deletes              []time.Duration
}

func BenchmarkExecutionAPIVsCRD(b *testing.B) {
	f := framework.New(b)
	f.Stack.RestartWithFlags(b, "execution-apiserver", "--enable-controller=false")
	cfg, err := clientcmd.BuildConfigFromFlags("", f.Stack.AdminKubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	kube := kubernetes.NewForConfigOrDie(cfg)
	exe := versioned.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)

	f.Kubectl.MustRunInput(benchCRD, "apply", "-f", "-")
	b.Cleanup(func() { f.Kubectl.Run("delete", "crd", "benchexecutions.bench.kubegene.io", "--ignore-not-found") })
	f.Kubectl.MustRun("wait", "--for=condition=Established", "crd/benchexecutions.bench.kubegene.io", "--timeout=60s")

	data, err := seed.Read("exec-whole")
	if err != nil {
		b.Fatal(err)
	}
	var example v1alpha1.Execution
	if err := yaml.UnmarshalStrict(data, &example); err != nil {
		b.Fatal(err)
	}
	specJSON, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&example.Spec)
	if err != nil {
		b.Fatal(err)
	}

	for n := 0; n < b.N; n++ {
		ns := f.CreateNamespace("e2e-crd")
		executions, crds := exe.ExecutionV1alpha1().Executions(ns), dyn.Resource(benchCRDResource).Namespace(ns)
		cms := kube.CoreV1().ConfigMaps(ns)
		kinds := []*apiKind{
			{
				name: "Execution",
				create: func(ctx context.Context, name string) error {
					e := &v1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: example.Spec}
					_, err := executions.Create(ctx, e, metav1.CreateOptions{})
					return err
				},
				get: func(ctx context.Context, name string) error {
					_, err := executions.Get(ctx, name, metav1.GetOptions{})
					return err
				},
				list: func(ctx context.Context) (int, error) {
					l, err := executions.List(ctx, metav1.ListOptions{})
					return len(l.Items), err
				},
				del: func(ctx context.Context, name string) error {
					return executions.Delete(ctx, name, metav1.DeleteOptions{})
				},
			},
			{
				name: "CRD",
				create: func(ctx context.Context, name string) error {
					u := &unstructured.Unstructured{Object: map[string]any{
						"apiVersion": "bench.kubegene.io/v1alpha1", "kind": "BenchExecution",
						"metadata": map[string]any{"name": name}, "spec": runtime.DeepCopyJSON(specJSON),
					}}
					_, err := crds.Create(ctx, u, metav1.CreateOptions{})
					return err
				},
				get: func(ctx context.Context, name string) error {
					_, err := crds.Get(ctx, name, metav1.GetOptions{})
					return err
				},
				list: func(ctx context.Context) (int, error) {
					l, err := crds.List(ctx, metav1.ListOptions{})
					return len(l.Items), err
				},
				del: func(ctx context.Context, name string) error {
					return crds.Delete(ctx, name, metav1.DeleteOptions{})
				},
			},
			{
				name: "ConfigMap",
				create: func(ctx context.Context, name string) error {
					cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"spec": string(data)}}
					_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
					return err
				},
				get: func(ctx context.Context, name string) error {
					_, err := cms.Get(ctx, name, metav1.GetOptions{})
					return err
				},
				list: func(ctx context.Context) (int, error) {
					l, err := cms.List(ctx, metav1.ListOptions{})
					// kube-root-ca.crt is in every namespace.
					return len(l.Items) - 1, err
				},
				del: func(ctx context.Context, name string) error {
					return cms.Delete(ctx, name, metav1.DeleteOptions{})
				},
			},
		}
		runInterleaved(b, kinds)
		reportVsCRD(b, kinds)
		ctlDeleteNamespaceAndWait(b, kube, f, ns)
	}
}

// runInterleaved runs each phase for every object, the kinds taking turns
// in an order that rotates with the object.
func runInterleaved(b *testing.B, kinds []*apiKind) {
	ctx := context.Background()
	timed := func(kind *apiKind, into *[]time.Duration, what string, call func() error) {
		start := time.Now()
		if err := call(); err != nil {
			b.Fatalf("%s %s: %v", what, kind.name, err)
		}
		*into = append(*into, time.Since(start))
	}
	turns := func(i int) []*apiKind {
		k := i % len(kinds)
		return append(slices.Clone(kinds[k:]), kinds[:k]...)
	}
	name := func(i int) string { return fmt.Sprintf("bench-%03d", i) }
	for i := range crdObjects {
		for _, kind := range turns(i) {
			timed(kind, &kind.creates, "create", func() error { return kind.create(ctx, name(i)) })
		}
	}
	for i := range crdObjects {
		for _, kind := range turns(i) {
			timed(kind, &kind.gets, "get", func() error { return kind.get(ctx, name(i)) })
		}
	}
	for i := range crdObjects {
		for _, kind := range turns(i) {
			timed(kind, &kind.lists, "list", func() error {
				n, err := kind.list(ctx)
				if err == nil && n != crdObjects {
					err = fmt.Errorf("listed %d objects, want %d", n, crdObjects)
				}
				return err
			})
		}
	}
	for i := range crdObjects {
		for _, kind := range turns(i) {
			timed(kind, &kind.deletes, "delete", func() error { return kind.del(ctx, name(i)) })
		}
	}
}

func p50ms(ds []time.Duration) float64 {
	return float64(median(ds).Microseconds()) / 1000
}

// reportVsCRD prints the p50s and their ratios to the CRD's, and reports the
// Execution's ratios as benchmark metrics.
func reportVsCRD(b *testing.B, kinds []*apiKind) {
	var crd *apiKind
	for _, k := range kinds {
		if k.name == "CRD" {
			crd = k
		}
	}
	ops := []struct {
		name string
		of   func(*apiKind) []time.Duration
	}{
		{"create", func(k *apiKind) []time.Duration { return k.creates }},
		{"get", func(k *apiKind) []time.Duration { return k.gets }},
		{"list", func(k *apiKind) []time.Duration { return k.lists }},
		{"delete", func(k *apiKind) []time.Duration { return k.deletes }},
	}
	var out strings.Builder
	fmt.Fprintf(&out, "p50 ms (ratio to the CRD) over %d objects:\n%-8s", crdObjects, "")
	for _, k := range kinds {
		fmt.Fprintf(&out, "%20s", k.name)
	}
	out.WriteString("\n")
	for _, op := range ops {
		fmt.Fprintf(&out, "%-8s", op.name)
		base := p50ms(op.of(crd))
		for _, k := range kinds {
			p := p50ms(op.of(k))
			fmt.Fprintf(&out, "%12.2f (%4.2f×)", p, p/base)
			if k.name == "Execution" {
				b.ReportMetric(p/base, op.name+"-x-crd")
			}
		}
		out.WriteString("\n")
	}
	b.Log(out.String())
}
