package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

// A stopping leader stops its controller, then releases the Lease, so the
// next replica takes over at once rather than after the lease duration.
func TestLeaderElectionHandsOverOnCancel(t *testing.T) {
	t.Parallel()
	kube := kubefake.NewSimpleClientset()
	cfg := func(identity string) LeaderElectionConfig {
		return LeaderElectionConfig{
			Namespace: "kubegene-system", Name: "execution-controller", Identity: identity,
			LeaseDuration: 30 * time.Second, RenewDeadline: 20 * time.Second, RetryPeriod: 50 * time.Millisecond,
		}
	}
	type replica struct {
		leading, stopped chan struct{}
		cancel           context.CancelFunc
		done             chan struct{}
	}
	start := func(identity string) *replica {
		r := &replica{leading: make(chan struct{}), stopped: make(chan struct{}), done: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		go func() {
			defer close(r.done)
			err := RunLeaderElected(ctx, kube, cfg(identity), func(ctx context.Context) {
				close(r.leading)
				<-ctx.Done()
				close(r.stopped)
			})
			if err != nil {
				t.Error(err)
			}
		}()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}

	first := start("first")
	<-first.leading
	second := start("second")
	select {
	case <-second.leading:
		t.Fatal("two leaders at once")
	case <-time.After(200 * time.Millisecond):
	}

	handover := time.Now()
	first.cancel()
	<-first.done
	select {
	case <-first.stopped:
	default:
		t.Fatal("leader election returned before the controller stopped")
	}
	select {
	case <-second.leading:
		if d := time.Since(handover); d > 2*time.Second {
			t.Errorf("handover took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second replica did not take over after the first released the lease")
	}
	lease, err := kube.CoordinationV1().Leases("kubegene-system").Get(context.Background(), "execution-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "second" {
		t.Errorf("lease holder = %v, want second", lease.Spec.HolderIdentity)
	}
}

// A leader whose run returns on its own releases the Lease and campaigns
// again instead of holding it idle.
func TestLeaderElectionCampaignsAgainWhenRunReturns(t *testing.T) {
	t.Parallel()
	kube := kubefake.NewSimpleClientset()
	ctx, cancel := context.WithCancel(context.Background())
	terms := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = RunLeaderElected(ctx, kube, LeaderElectionConfig{
			Namespace: "kubegene-system", Name: "execution-controller", Identity: "only",
			LeaseDuration: 30 * time.Second, RenewDeadline: 20 * time.Second, RetryPeriod: 20 * time.Millisecond,
		}, func(context.Context) { terms <- struct{}{} })
	}()
	defer func() { cancel(); <-done }()
	for i := 0; i < 2; i++ {
		select {
		case <-terms:
		case <-time.After(5 * time.Second):
			t.Fatalf("term %d did not start", i+1)
		}
	}
}
