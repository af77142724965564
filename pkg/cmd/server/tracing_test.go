package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/spf13/pflag"
	oteltrace "go.opentelemetry.io/otel/trace"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/tracing"
)

// genericServerClusterConfig is the cluster client configuration as the
// generic server builds it without a tracing configuration: a no-op tracer
// provider, wrapped all the same.
func genericServerClusterConfig(host string) *rest.Config {
	cfg := &rest.Config{Host: host, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	cfg.Wrap(tracing.WrapperFor(tracing.NewNoopTracerProvider()))
	return cfg
}

// optionsTracing are the server's default options, with a tracing
// configuration if traced.
func optionsTracing(traced bool) *Options {
	o := NewOptions(io.Discard, io.Discard)
	if traced {
		o.RecommendedOptions.Traces.ConfigFile = "/etc/kubegene/tracing.yaml"
	}
	return o
}

// headerRecordingServer answers every request as kube-apiserver answers a
// Job creation, over TLS as kube-apiserver (client-go's transport for plain
// HTTP is net/http's default one, which ignores parts of the config), and
// remembers the given header of each request.
func headerRecordingServer(t testing.TB, header string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(header))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"exec.a.0","namespace":"ns","uid":"u"}}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// Without a tracing configuration the controller's requests to the cluster
// skip the generic server's OpenTelemetry wrapper; with one they keep it and
// carry the trace of their context. The wrapper is seen at work through the
// trace context it propagates even with a no-op tracer.
func TestControllerClusterClientIsInstrumentedOnlyWhenTracing(t *testing.T) {
	srv, parents := headerRecordingServer(t, "traceparent")
	given := genericServerClusterConfig(srv.URL)
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID:    oteltrace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     oteltrace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: oteltrace.FlagsSampled,
	})
	ctx := oteltrace.ContextWithRemoteSpanContext(context.Background(), sc)
	for _, traced := range []bool{false, true} {
		clients, err := newControllerClients(NewControllerOptions(), &rest.Config{Host: "https://127.0.0.1:2"}, optionsTracing(traced).controllerClusterConfig(given))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := clients.kube.BatchV1().Jobs("ns").Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "exec.a.0"}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("traced=%v: creating a Job: %v", traced, err)
		}
	}
	got := parents()
	if len(got) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(got))
	}
	if got[0] != "" {
		t.Errorf("without tracing the request carried traceparent %q: the wrapper is still there", got[0])
	}
	if want := "00-" + sc.TraceID().String() + "-"; len(got[1]) < len(want) || got[1][:len(want)] != want {
		t.Errorf("with tracing the request carried traceparent %q, want the context's trace %s", got[1], sc.TraceID())
	}
	if given.WrapTransport == nil {
		t.Error("the generic server's own configuration lost its wrapper")
	}
}

// The server's --tracing-config-file decides whether the controller's
// client of the cluster keeps the generic server's wrapper.
func TestControllerClusterConfigFollowsTheTracingFlag(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wrapped bool
	}{
		{nil, false},
		{[]string{"--tracing-config-file=/etc/kubegene/tracing.yaml"}, true},
	} {
		o := NewOptions(io.Discard, io.Discard)
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		got := o.controllerClusterConfig(genericServerClusterConfig("https://127.0.0.1:1"))
		if wrapped := got.WrapTransport != nil; wrapped != tc.wrapped {
			t.Errorf("%q: the controller's client is wrapped: %v, want %v", tc.args, wrapped, tc.wrapped)
		}
	}
	if NewOptions(io.Discard, io.Discard).controllerClusterConfig(nil) != nil {
		t.Error("no cluster configuration became one")
	}
}

// BenchmarkControllerJobCreate is one Job creation as the controller makes
// it, through the generic server's instrumented client and through the
// controller's own, against an in-process server that answers at once: the
// server's share of each round trip is the same in both.
func BenchmarkControllerJobCreate(b *testing.B) {
	srv, _ := headerRecordingServer(b, "traceparent")
	for _, bc := range []struct {
		name   string
		traced bool
	}{{"instrumented", true}, {"controller", false}} {
		b.Run(bc.name, func(b *testing.B) {
			o := NewControllerOptions()
			o.KubeAPIQPS, o.KubeAPIBurst = 1e6, 1e6 // the client's CPU, not its rate limit
			clients, err := newControllerClients(o, &rest.Config{Host: "https://127.0.0.1:2"}, optionsTracing(bc.traced).controllerClusterConfig(genericServerClusterConfig(srv.URL)))
			if err != nil {
				b.Fatal(err)
			}
			jobs := clients.kube.BatchV1().Jobs("ns")
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "exec.a.0"}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jobs.Create(ctx, job, metav1.CreateOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
