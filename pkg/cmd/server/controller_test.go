package server

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"

	"kubegene.io/kubegene/pkg/controller"
)

func TestControllerFlags(t *testing.T) {
	o := NewControllerOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	for flag, want := range map[string]string{
		"enable-controller":             "true",
		"controller-workers":            "4",
		"kube-api-qps":                  "100",
		"kube-api-burst":                "200",
		"leader-elect":                  "true",
		"leader-elect-namespace":        "kubegene-system",
		"leader-elect-name":             "execution-controller",
		"leader-elect-lease-duration":   "15s",
		"leader-elect-renew-deadline":   "10s",
		"leader-elect-retry-period":     "2s",
		"max-active-jobs-per-execution": "300",
		"max-active-jobs":               "1000",
		"permission-check-interval":     "30s",
	} {
		f := fs.Lookup(flag)
		if f == nil {
			t.Errorf("no flag --%s", flag)
			continue
		}
		if f.DefValue != want {
			t.Errorf("--%s defaults to %s, want %s", flag, f.DefValue, want)
		}
	}
	if errs := o.Validate(); len(errs) != 0 {
		t.Errorf("defaults do not validate: %v", errs)
	}

	if err := fs.Parse([]string{"--controller-workers=0", "--leader-elect-renew-deadline=20s", "--max-active-jobs=-1", "--permission-check-interval=0"}); err != nil {
		t.Fatal(err)
	}
	if errs := o.Validate(); len(errs) != 4 {
		t.Errorf("Validate() = %v, want errors for workers, renew deadline, active jobs and permission interval", errs)
	}
	o.Enabled = false
	if errs := o.Validate(); len(errs) != 0 {
		t.Errorf("a disabled controller's options are not used, yet Validate() = %v", errs)
	}
}

// Without a cluster client configuration (in-process tests without a
// cluster) the start hook does not start the controller, and stopping is
// a no-op.
func TestControllerNotStartedWithoutCluster(t *testing.T) {
	r := &controllerRunner{opts: NewControllerOptions()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.start(genericapiserver.PostStartHookContext{Context: ctx}); err != nil {
		t.Fatal(err)
	}
	if r.cancel != nil {
		t.Error("controller started without a cluster")
	}
	if err := r.stop(); err != nil {
		t.Error(err)
	}
}

func TestWarningLoggerLogsEachWarningOnce(t *testing.T) {
	var logged []string
	w := &warningLogger{seen: make(map[string]bool), log: func(text string) { logged = append(logged, text) }}
	dots := "metadata.name: must not contain dots"
	for range 1000 {
		w.HandleWarningHeader(299, "", dots)
	}
	w.HandleWarningHeader(299, "", "another")
	w.HandleWarningHeader(199, "", "not a warning code")
	if want := []string{dots, "another"}; !slices.Equal(logged, want) {
		t.Errorf("logged %q, want %q", logged, want)
	}

	// Past the bound, distinct warnings are still logged, none remembered.
	for i := range 2 * maxDistinctWarnings {
		w.HandleWarningHeader(299, "", fmt.Sprintf("warning %d", i))
	}
	if len(w.seen) != maxDistinctWarnings || len(logged) != 2+2*maxDistinctWarnings {
		t.Errorf("remembered %d, logged %d; want %d and %d", len(w.seen), len(logged), maxDistinctWarnings, 2+2*maxDistinctWarnings)
	}
}

func TestWarningLoggerHandsJobCreationWarningsToTheController(t *testing.T) {
	w := &warningLogger{seen: make(map[string]bool), log: func(string) {}}
	ctx, collected := controller.WithWarnings(context.Background())
	w.HandleWarningHeaderWithContext(ctx, 299, "", "would violate PodSecurity")
	w.HandleWarningHeaderWithContext(ctx, 199, "", "not a warning code")
	w.HandleWarningHeaderWithContext(context.Background(), 299, "", "elsewhere")
	if got := collected(); len(got) != 1 || got[0] != "would violate PodSecurity" {
		t.Errorf("the controller got %q, want the one warning of its request", got)
	}
}

// A burst of Job creations spends only the Job client's tokens: the
// events the controller records and the renewals of its Lease each draw
// on a bucket of their own.
func TestControllerClientsHaveTheirOwnRateLimiters(t *testing.T) {
	o := NewControllerOptions()
	o.KubeAPIQPS, o.KubeAPIBurst = 0.001, 1
	// A limiter in the given configuration is not shared either.
	given := flowcontrol.NewTokenBucketRateLimiter(0.001, 1)
	cluster := &rest.Config{Host: "https://127.0.0.1:1", UserAgent: "test", RateLimiter: given}
	clients, err := newControllerClients(o, &rest.Config{Host: "https://127.0.0.1:2"}, cluster)
	if err != nil {
		t.Fatal(err)
	}
	jobs := clients.kube.BatchV1().RESTClient().GetRateLimiter()
	if jobs == given {
		t.Fatal("the Job client uses the rate limiter of the given configuration")
	}
	if !jobs.TryAccept() {
		t.Fatal("the Job client's first request was refused")
	}
	if jobs.TryAccept() {
		t.Fatal("the Job client's burst of 1 allowed a second request")
	}
	for name, limiter := range map[string]flowcontrol.RateLimiter{
		"events":          clients.events.CoreV1().RESTClient().GetRateLimiter(),
		"leader election": clients.leaderElection.CoordinationV1().RESTClient().GetRateLimiter(),
	} {
		if !limiter.TryAccept() {
			t.Errorf("the %s client shares the Job client's token bucket", name)
		}
	}
}

// The controller's requests to the cluster do not ask for gzip: kube-apiserver
// would compress its watch of every Job event by event, costing CPU on both
// sides of a connection that does not need it.
func TestControllerClientsDoNotAskForCompression(t *testing.T) {
	srv, seen := headerRecordingServer(t, "Accept-Encoding")
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	clients, err := newControllerClients(NewControllerOptions(), cfg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _ = clients.kube.BatchV1().Jobs("ns").Get(ctx, "job", metav1.GetOptions{})
	_, _ = clients.events.CoreV1().Events("ns").Get(ctx, "event", metav1.GetOptions{})
	_, _ = clients.leaderElection.CoordinationV1().Leases("ns").Get(ctx, "lease", metav1.GetOptions{})
	encodings := seen()
	if len(encodings) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(encodings))
	}
	for i, enc := range encodings {
		if enc != "" {
			t.Errorf("request %d asked for Accept-Encoding %q, want none", i, enc)
		}
	}
}
