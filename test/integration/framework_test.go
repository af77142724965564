// Package integration tests execution-apiserver in process, on its real
// embedded etcd, through real HTTPS and the generated clientset.
package integration

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/cmd/server"
	versioned "kubegene.io/kubegene/pkg/generated/clientset/versioned"
	"kubegene.io/kubegene/test/seed"
)

// testServer is a running execution-apiserver.
type testServer struct {
	Config   *rest.Config
	Client   versioned.Interface
	EtcdURL  string
	DataDir  string
	cancel   context.CancelFunc
	finished chan error
}

// startServer runs execution-apiserver in this process on an embedded etcd in
// dataDir (a fresh one when empty), as the server binary would, without a
// cluster: no delegated authentication or authorization, no admission. The
// client talks to it as the loopback (system:masters) user.
func startServer(t *testing.T, dataDir string, customize func(*server.Options)) *testServer {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	o := server.NewOptions(os.Stdout, os.Stderr)
	o.EmbeddedEtcd.DataDir = filepath.Join(dataDir, "etcd")
	o.EmbeddedEtcd.UnsafeNoFsync = true

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.RecommendedOptions.SecureServing.Listener = ln
	o.RecommendedOptions.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	o.RecommendedOptions.SecureServing.ServerCert.CertDirectory = t.TempDir()
	// No cluster to delegate to.
	o.RecommendedOptions.Authentication.RemoteKubeConfigFileOptional = true
	o.RecommendedOptions.Authorization.RemoteKubeConfigFileOptional = true
	o.RecommendedOptions.CoreAPI = nil
	o.RecommendedOptions.Admission = nil
	o.RecommendedOptions.Features.EnablePriorityAndFairness = false
	if customize != nil {
		customize(o)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{DataDir: dataDir, cancel: cancel, finished: make(chan error, 1)}
	ready := make(chan *rest.Config, 1)
	go func() {
		ts.finished <- o.RunWithReady(ctx, func(c *rest.Config) { ready <- c })
	}()
	select {
	case cfg := <-ready:
		cfg.QPS, cfg.Burst = 1000, 1000
		ts.Config = cfg
	case err := <-ts.finished:
		cancel()
		t.Fatalf("server exited before it was ready: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("server not ready after 2 minutes")
	}
	ts.EtcdURL = o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList[0]
	ts.Client = versioned.NewForConfigOrDie(ts.Config)
	waitReady(t, ts)
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// waitReady waits until /readyz passes: every post-start hook ran and storage works.
func waitReady(t *testing.T, ts *testServer) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		body, err := ts.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err == nil && string(body) == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v %s", err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop shuts the server down and waits until it, and its etcd, are gone.
func (ts *testServer) stop(t *testing.T) {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	select {
	case err := <-ts.finished:
		if err != nil {
			t.Errorf("server exited with %v", err)
		}
	case <-time.After(time.Minute):
		t.Error("server did not stop within a minute")
	}
}

// example reads one of the seed's Executions from artifacts/examples.
func example(t *testing.T, name string) *v1alpha1.Execution {
	t.Helper()
	data, err := seed.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	e := &v1alpha1.Execution{}
	if err := yaml.UnmarshalStrict(data, e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if e.Namespace == "" {
		e.Namespace = "default"
	}
	return e
}

func itoa(i int) string { return strconv.Itoa(i) }
