package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// LeaderElectionConfig says which Lease the replicas of the server compete
// for, so that only one of them runs the controller at a time.
type LeaderElectionConfig struct {
	// Namespace and Name of the Lease in the cluster.
	Namespace, Name string
	// Identity of this replica; unique among replicas.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod have the meaning of
	// client-go's leaderelection.LeaderElectionConfig.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// RunLeaderElected calls run whenever this replica holds the Lease, with a
// context that is cancelled when the lease is lost or ctx is done, until ctx
// is done. run must return once its context is cancelled.
//
// When ctx is done, run is stopped first and the Lease released only after
// run has returned (ReleaseOnCancel), so another replica takes over at once
// instead of after LeaseDuration, and two controllers never overlap. After a
// lost lease (or if run returns on its own) the replica campaigns again,
// likewise only once run returned.
func RunLeaderElected(ctx context.Context, kube kubernetes.Interface, cfg LeaderElectionConfig, run func(context.Context)) error {
	for ctx.Err() == nil {
		if err := campaign(ctx, kube, cfg, run); err != nil {
			return err
		}
		select { // do not hammer the API server between terms
		case <-ctx.Done():
		case <-time.After(cfg.RetryPeriod):
		}
	}
	return nil
}

// campaign runs one leader election until the lease is lost or ctx is done.
func campaign(ctx context.Context, kube kubernetes.Interface, cfg LeaderElectionConfig, run func(context.Context)) error {
	logger := klog.FromContext(ctx)
	// The election has its own context: cancelling it releases the Lease,
	// which must wait until run has returned.
	electionCtx, cancelElection := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelElection()

	var (
		mu       sync.Mutex
		stopping bool
		runDone  chan struct{} // closed when run returns; nil if run never started
	)
	waitRun := func() {
		mu.Lock()
		done := runDone
		mu.Unlock()
		if done != nil {
			<-done
		}
	}
	stopAfterRun := context.AfterFunc(ctx, func() {
		mu.Lock()
		stopping = true
		mu.Unlock()
		waitRun()
		cancelElection()
	})
	defer stopAfterRun()

	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
		Client:     kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity},
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            cfg.Name,
		LeaseDuration:   cfg.LeaseDuration,
		RenewDeadline:   cfg.RenewDeadline,
		RetryPeriod:     cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) {
				mu.Lock()
				if stopping {
					mu.Unlock()
					return
				}
				done := make(chan struct{})
				runDone = done
				mu.Unlock()
				defer close(done)

				logger.Info("Became leader, starting execution controller", "lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", cfg.Identity)
				runCtx, stop := context.WithCancel(leadCtx)
				defer stop()
				defer context.AfterFunc(ctx, stop)()
				run(runCtx)
				if leadCtx.Err() == nil && ctx.Err() == nil {
					// run gave up while leading: hand the Lease over
					// rather than hold it idle, and campaign again.
					logger.Info("Execution controller returned while leading; releasing the lease", "lease", klog.KRef(cfg.Namespace, cfg.Name))
					cancelElection()
				}
			},
			OnStoppedLeading: func() {
				logger.Info("Stopped leading", "lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", cfg.Identity)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("configuring leader election on lease %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	elector.Run(electionCtx)
	// Lost the lease (or stopping): never campaign again while run still acts.
	waitRun()
	return nil
}
