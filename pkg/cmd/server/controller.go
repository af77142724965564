package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	// Registers client-go's request metrics (latency, rate-limiter wait, by
	// verb and host) on /metrics: the controller's view of the API servers.
	_ "k8s.io/component-base/metrics/prometheus/restclient"
	"k8s.io/klog/v2"

	"kubegene.io/kubegene/pkg/controller"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned"
	execregistry "kubegene.io/kubegene/registry/execution"
)

// ControllerOptions configure the controller embedded in the server, which
// runs Executions as Jobs in the cluster given by --kubeconfig.
type ControllerOptions struct {
	Enabled bool
	Workers int
	// KubeAPIQPS and KubeAPIBurst limit the requests of each of the
	// controller's clients: Jobs, events, leader election (to the cluster)
	// and Executions (to this server).
	KubeAPIQPS   float32
	KubeAPIBurst int
	// MaxActiveJobsPerExecution and MaxActiveJobs bound the Jobs created
	// and not finished, per Execution and over all; 0 means no bound.
	MaxActiveJobsPerExecution int
	MaxActiveJobs             int
	// PermissionCheckInterval is how long the controller trusts that an
	// Execution's creator may create Jobs.
	PermissionCheckInterval time.Duration

	LeaderElect          bool
	LeaderElectNamespace string
	LeaderElectName      string
	LeaseDuration        time.Duration
	RenewDeadline        time.Duration
	RetryPeriod          time.Duration
}

// NewControllerOptions returns the defaults: on, leader-elected.
func NewControllerOptions() *ControllerOptions {
	return &ControllerOptions{
		Enabled:                   true,
		Workers:                   4,
		KubeAPIQPS:                100,
		KubeAPIBurst:              200,
		MaxActiveJobsPerExecution: controller.DefaultMaxActiveJobsPerExecution,
		MaxActiveJobs:             controller.DefaultMaxActiveJobs,
		PermissionCheckInterval:   controller.DefaultPermissionCheckInterval,
		LeaderElect:               true,
		LeaderElectNamespace:      "kubegene-system",
		LeaderElectName:           "execution-controller",
		LeaseDuration:             15 * time.Second,
		RenewDeadline:             10 * time.Second,
		RetryPeriod:               2 * time.Second,
	}
}

// AddFlags adds the controller's flags.
func (o *ControllerOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "enable-controller", o.Enabled,
		"Run the embedded controller that creates the Jobs of Executions and reports their status. Needs --kubeconfig or an in-cluster configuration.")
	fs.IntVar(&o.Workers, "controller-workers", o.Workers,
		"Executions the controller syncs concurrently.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS,
		"Queries per second each of the controller's clients may send: its Job, event and leader-election clients to the Kubernetes API server, its Execution client to this server.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst,
		"Burst of requests each of the controller's clients may send (see --kube-api-qps).")
	fs.IntVar(&o.MaxActiveJobsPerExecution, "max-active-jobs-per-execution", o.MaxActiveJobsPerExecution,
		"Most Jobs of one Execution created and not finished at a time (spec.parallelism may set fewer); more wait until some finish. 0 means no bound.")
	fs.IntVar(&o.MaxActiveJobs, "max-active-jobs", o.MaxActiveJobs,
		"Most Jobs created and not finished at a time over all Executions, shared equally among those that want more. 0 means no bound.")
	fs.DurationVar(&o.PermissionCheckInterval, "permission-check-interval", o.PermissionCheckInterval,
		"How long the controller trusts that an Execution's creator may create Jobs in its namespace before it asks again (one SubjectAccessReview per running Execution per interval).")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect,
		"Run the controller only while holding a Lease in the cluster, so that of several replicas one runs it.")
	fs.StringVar(&o.LeaderElectNamespace, "leader-elect-namespace", o.LeaderElectNamespace,
		"Namespace of the controller's leader election Lease.")
	fs.StringVar(&o.LeaderElectName, "leader-elect-name", o.LeaderElectName,
		"Name of the controller's leader election Lease.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration,
		"How long other replicas wait before taking over the Lease of a leader that stopped renewing it.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline,
		"How long the leader tries to renew its Lease before it stops leading. Less than the lease duration.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod,
		"How long replicas wait between attempts to acquire or renew the Lease.")
}

// Validate checks the controller's options.
func (o *ControllerOptions) Validate() []error {
	if o == nil || !o.Enabled {
		return nil
	}
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--controller-workers must be at least 1"))
	}
	if o.MaxActiveJobsPerExecution < 0 || o.MaxActiveJobs < 0 {
		errs = append(errs, fmt.Errorf("--max-active-jobs-per-execution and --max-active-jobs must not be negative"))
	}
	if o.PermissionCheckInterval < time.Second {
		errs = append(errs, fmt.Errorf("--permission-check-interval must be at least 1s"))
	}
	if o.KubeAPIQPS <= 0 || o.KubeAPIBurst < 1 {
		errs = append(errs, fmt.Errorf("--kube-api-qps must be positive and --kube-api-burst at least 1"))
	}
	if o.LeaderElect {
		if o.LeaderElectNamespace == "" || o.LeaderElectName == "" {
			errs = append(errs, fmt.Errorf("--leader-elect-namespace and --leader-elect-name must be set with --leader-elect"))
		}
		// client-go's leader election refuses other combinations.
		if o.RetryPeriod <= 0 || o.RenewDeadline <= time.Duration(1.2*float64(o.RetryPeriod)) || o.LeaseDuration <= o.RenewDeadline {
			errs = append(errs, fmt.Errorf("leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > 1.2 × --leader-elect-retry-period > 0"))
		}
	}
	return errs
}

// controllerRunner starts the controller once the server serves (it needs
// the loopback client) and stops it before the server stops serving, so a
// leader releases its Lease while it still can.
type controllerRunner struct {
	opts          *ControllerOptions
	clusterConfig *rest.Config

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// addControllerHooks installs the hooks that start and stop the embedded
// controller. clusterConfig is the client configuration of the cluster
// (from --kubeconfig); without it the controller cannot run, which is the
// case of in-process tests without a cluster.
func (o *ControllerOptions) addControllerHooks(server *genericapiserver.GenericAPIServer, clusterConfig *rest.Config) {
	if !o.Enabled {
		klog.InfoS("Execution controller disabled by --enable-controller=false")
		return
	}
	r := &controllerRunner{opts: o, clusterConfig: clusterConfig}
	server.AddPostStartHookOrDie("start-execution-controller", r.start)
	server.AddPreShutdownHookOrDie("stop-execution-controller", r.stop)
}

func (r *controllerRunner) start(hookCtx genericapiserver.PostStartHookContext) error {
	if r.clusterConfig == nil {
		klog.InfoS("Execution controller not started: no Kubernetes client configuration (set --kubeconfig, or run in a cluster)")
		return nil
	}
	clients, err := newControllerClients(r.opts, hookCtx.LoopbackClientConfig, r.clusterConfig)
	if err != nil {
		return fmt.Errorf("starting execution controller: %w", err)
	}
	ctx, cancel := context.WithCancel(hookCtx)
	done := make(chan struct{})
	r.mu.Lock()
	r.cancel, r.done = cancel, done
	r.mu.Unlock()
	go func() {
		defer close(done)
		if err := r.opts.run(ctx, clients); err != nil {
			klog.ErrorS(err, "Execution controller stopped")
		}
	}()
	return nil
}

// stop stops the controller and waits, bounded by the lease duration, for
// it to stop and release its Lease.
func (r *controllerRunner) stop() error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-time.After(r.opts.LeaseDuration):
		return errors.New("execution controller did not stop in time")
	}
}

// controllerClients are the controller's clients. Each has its own rate
// limiter, as each of kube-controller-manager's controllers and its leader
// election have: a burst of Job creations must neither delay the renewal of
// the controller's Lease nor spend its tokens on the events it records.
type controllerClients struct {
	// kube creates, deletes and watches Jobs, and asks the cluster
	// whether an Execution's creator may still create them.
	kube kubernetes.Interface
	// events records the controller's events.
	events kubernetes.Interface
	// leaderElection renews the controller's Lease.
	leaderElection kubernetes.Interface
	executions     versioned.Interface
}

// UseControllerTransport sets cfg to talk to kube-apiserver as the
// controller does. The scale benchmark's plain Jobs are created through it,
// so that the baseline differs from the controller in what it does, not in
// how it is encoded.
//
// Jobs, Events and Leases go in protobuf, as Kubernetes' own controllers
// talk to kube-apiserver: cheaper to encode and decode on both sides than
// JSON, for every Job created and every Job event watched.
//
// Uncompressed: kube-apiserver gzips a watch-list stream for as long as it
// lasts, so every event of the watch of all Jobs would be compressed by
// kube-apiserver and inflated here, CPU on both sides (8 % of the
// controller's own in a 5,000-job run) to save bandwidth between two
// processes of one cluster.
func UseControllerTransport(cfg *rest.Config) {
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.DisableCompression = true
}

func newControllerClients(o *ControllerOptions, loopback, cluster *rest.Config) (*controllerClients, error) {
	if loopback == nil {
		return nil, errors.New("no loopback client configuration")
	}
	warnings := &warningLogger{seen: make(map[string]bool)}
	limit := func(cfg *rest.Config) *rest.Config {
		cfg = rest.CopyConfig(cfg)
		cfg.QPS, cfg.Burst, cfg.RateLimiter = o.KubeAPIQPS, o.KubeAPIBurst, nil
		cfg.WarningHandler = nil
		cfg.WarningHandlerWithContext = warnings
		cfg.UserAgent = rest.DefaultKubernetesUserAgent() + "/" + controller.EventSourceComponent
		return cfg
	}
	clusterCfg := limit(cluster)
	UseControllerTransport(clusterCfg)
	kubeClient := func(purpose string) (kubernetes.Interface, error) {
		cfg := rest.CopyConfig(clusterCfg)
		if purpose != "" {
			cfg.UserAgent += "/" + purpose
		}
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("creating Kubernetes client %q: %w", cfg.UserAgent, err)
		}
		return c, nil
	}
	clients := &controllerClients{}
	var err error
	if clients.kube, err = kubeClient(""); err != nil {
		return nil, err
	}
	if clients.events, err = kubeClient("events"); err != nil {
		return nil, err
	}
	if clients.leaderElection, err = kubeClient("leader-election"); err != nil {
		return nil, err
	}
	// The controller acts under its own name, so that audit logs tell its
	// writes apart and the server answers its reads in the compact form.
	self := limit(loopback)
	self.Impersonate = rest.ImpersonationConfig{UserName: execregistry.ControllerUser, Groups: []string{user.SystemPrivilegedGroup}}
	if clients.executions, err = versioned.NewForConfig(self); err != nil {
		return nil, fmt.Errorf("creating loopback client: %w", err)
	}
	return clients, nil
}

// maxDistinctWarnings bounds the warnings warningLogger remembers.
const maxDistinctWarnings = 256

// warningLogger logs each distinct warning the API servers send once.
// kube-apiserver warns on every creation of a Job whose name has dots, and
// every Job of an Execution is named EXECUTION.TASK.INDEX: client-go's
// default would log that line once per Job.
type warningLogger struct {
	mu   sync.Mutex
	seen map[string]bool
	// log logs a warning; klog if nil.
	log func(text string)
}

// HandleWarningHeaderWithContext hands the warnings of the controller's Job
// creations to the controller, which shows them on the Execution, and logs
// each distinct warning once.
func (w *warningLogger) HandleWarningHeaderWithContext(ctx context.Context, code int, agent string, text string) {
	if code == 299 && text != "" {
		controller.CollectWarning(ctx, text)
	}
	w.HandleWarningHeader(code, agent, text)
}

func (w *warningLogger) HandleWarningHeader(code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	w.mu.Lock()
	first := !w.seen[text]
	if first && len(w.seen) < maxDistinctWarnings {
		w.seen[text] = true
	}
	w.mu.Unlock()
	switch {
	case !first:
	case w.log != nil:
		w.log(text)
	default:
		klog.InfoS("Warning from the API server; further ones alike are not logged", "warning", text)
	}
}

// run runs the controller until ctx is done: under leader election, or
// straight away without it.
func (o *ControllerOptions) run(ctx context.Context, clients *controllerClients) error {
	broadcaster := controller.NewEventBroadcaster(ctx)
	broadcaster.StartStructuredLogging(3)
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: clients.events.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: controller.EventSourceComponent})

	runController := func(ctx context.Context) {
		// A new controller per term: fresh caches and state after a lost lease.
		c, err := controller.New(controller.Config{
			KubeClient: clients.kube, ExecutionClient: clients.executions, Recorder: recorder,
			MaxActiveJobsPerExecution: o.MaxActiveJobsPerExecution, MaxActiveJobs: o.MaxActiveJobs,
			PermissionCheckInterval: o.PermissionCheckInterval,
		})
		if err != nil {
			klog.ErrorS(err, "Creating execution controller")
			return
		}
		if err := c.Run(ctx, o.Workers); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Execution controller failed")
		}
	}
	if !o.LeaderElect {
		runController(ctx)
		return nil
	}
	hostname, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("getting hostname for the leader election identity: %w", err)
	}
	return controller.RunLeaderElected(ctx, clients.leaderElection, controller.LeaderElectionConfig{
		Namespace:     o.LeaderElectNamespace,
		Name:          o.LeaderElectName,
		Identity:      hostname + "_" + string(uuid.NewUUID()),
		LeaseDuration: o.LeaseDuration,
		RenewDeadline: o.RenewDeadline,
		RetryPeriod:   o.RetryPeriod,
	}, runController)
}
