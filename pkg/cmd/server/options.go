// Package server holds the options and the run loop of execution-apiserver.
package server

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/admission/jobpermission"
	"kubegene.io/kubegene/pkg/admission/quota"
	"kubegene.io/kubegene/pkg/apiserver"
	generatedopenapi "kubegene.io/kubegene/pkg/generated/openapi"
	executionregistry "kubegene.io/kubegene/registry/execution"
)

const etcdPathPrefix = "/registry/execution.kubegene.io"

// Options are everything execution-apiserver is configured with.
type Options struct {
	RecommendedOptions *genericoptions.RecommendedOptions
	// ServerRun holds request limits (in-flight, body size, timeouts) and
	// shutdown behaviour.
	ServerRun    *genericoptions.ServerRunOptions
	EmbeddedEtcd *EmbeddedEtcdOptions
	Registry     executionregistry.Options
	Controller   *ControllerOptions

	// AlternateDNS are extra names for the self-signed serving certificate
	// made when no --tls-cert-file is given.
	AlternateDNS []string

	Out, ErrOut io.Writer
}

// NewOptions returns the defaults.
func NewOptions(out, errOut io.Writer) *Options {
	o := &Options{
		RecommendedOptions: genericoptions.NewRecommendedOptions(etcdPathPrefix,
			apiserver.Codecs.LegacyCodec(v1alpha1.SchemeGroupVersion)),
		ServerRun:    genericoptions.NewServerRunOptions(),
		EmbeddedEtcd: NewEmbeddedEtcdOptions(),
		Registry:     executionregistry.DefaultOptions(),
		Controller:   NewControllerOptions(),
		Out:          out,
		ErrOut:       errOut,
	}
	// Long watches (kubectl get -w, the aggregator, controllers) must not hold
	// a shutdown for a minute: tell clients to retry elsewhere instead.
	o.ServerRun.ShutdownSendRetryAfter = true
	jobpermission.Register(o.RecommendedOptions.Admission.Plugins)
	quota.Register(o.RecommendedOptions.Admission.Plugins)
	// Quota last, as kube-apiserver orders it: it counts what the others let through.
	o.RecommendedOptions.Admission.RecommendedPluginOrder = append(o.RecommendedOptions.Admission.RecommendedPluginOrder,
		jobpermission.PluginName, quota.PluginName)
	o.RecommendedOptions.ExtraAdmissionInitializers = func(*genericapiserver.RecommendedConfig) ([]admission.PluginInitializer, error) {
		return []admission.PluginInitializer{quota.Initializer{}}, nil
	}
	o.RecommendedOptions.Etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(
		v1alpha1.SchemeGroupVersion, schema.GroupKind{Group: v1alpha1.GroupName})
	return o
}

// AddFlags adds every flag of the server.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.RecommendedOptions.AddFlags(fs)
	o.ServerRun.AddUniversalFlags(fs)
	o.EmbeddedEtcd.AddFlags(fs)
	o.Controller.AddFlags(fs)
	fs.IntVar(&o.Registry.Validation.MaxJobs, "max-jobs-per-execution", o.Registry.Validation.MaxJobs,
		"Most jobs (commands over all tasks) one Execution may have.")
	fs.IntVar(&o.Registry.Validation.MaxCommandLength, "max-command-length", o.Registry.Validation.MaxCommandLength,
		"Most bytes one command may have.")
	fs.IntVar(&o.Registry.Render.MaxVertices, "max-rendered-vertices", o.Registry.Render.MaxVertices,
		"Most jobs for which status.vertices is rendered on read; larger Executions are read through the graph subresource.")
	fs.IntVar(&o.Registry.Render.MaxEdges, "max-rendered-edges", o.Registry.Render.MaxEdges,
		"Most parent-child entries rendered in status.vertices.")
	fs.IntVar(&o.Registry.Render.MaxVerticesPerList, "max-rendered-vertices-per-list", o.Registry.Render.MaxVerticesPerList,
		"Most vertices rendered into one list response or one event of a watch of many Executions; later items are served without status.vertices.")
	fs.IntVar(&o.Registry.Render.CacheVertices, "rendered-vertices-cache-size", o.Registry.Render.CacheVertices,
		"Most rendered vertices kept to answer later reads of the same Execution at the same resourceVersion.")
	fs.Int64Var(&o.Registry.Graph.MaxJobEdges, "max-graph-job-edges", o.Registry.Graph.MaxJobEdges,
		"Most job-level edges the graph subresource serves; larger graphs are served with ?level=task.")
}

// usesEmbeddedEtcd reports whether the server runs its own etcd.
func (o *Options) usesEmbeddedEtcd() bool {
	return len(o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList) == 0
}

// controllerClusterConfig is the generic server's client of the cluster
// (--kubeconfig, or in-cluster), as the controller uses it. The generic
// server wraps that client in OpenTelemetry's HTTP instrumentation whether
// or not tracing is configured; unless --tracing-config-file is set, the
// controller's copy leaves the wrapper out. With no tracer the wrapper still
// builds the attributes of its request metrics, which nothing records, on
// every request (every Job the controller creates, every read of its watch
// of all Jobs): 5 % of the execution-apiserver's CPU samples in a
// 10,000-job run. Nothing else wraps that client: it is loaded from a
// kubeconfig or the pod's service account.
func (o *Options) controllerClusterConfig(cluster *rest.Config) *rest.Config {
	traced := o.RecommendedOptions.Traces != nil && o.RecommendedOptions.Traces.ConfigFile != ""
	if cluster == nil || traced {
		return cluster
	}
	cfg := rest.CopyConfig(cluster)
	cfg.WrapTransport = nil
	return cfg
}

// Validate checks the options. The etcd servers are checked once known: the
// embedded etcd's address is only known after it starts.
func (o *Options) Validate() error {
	errs := o.ServerRun.Validate()
	if !o.usesEmbeddedEtcd() {
		errs = append(errs, o.RecommendedOptions.Validate()...)
	} else {
		errs = append(errs, o.EmbeddedEtcd.Validate()...)
	}
	if o.Registry.Validation.MaxJobs < 1 {
		errs = append(errs, fmt.Errorf("--max-jobs-per-execution must be at least 1"))
	}
	if o.Registry.Validation.MaxCommandLength < 1 {
		errs = append(errs, fmt.Errorf("--max-command-length must be at least 1"))
	}
	if r := o.Registry.Render; r.MaxVertices < 0 || r.MaxEdges < 0 || r.MaxVerticesPerList < 0 || r.CacheVertices < 0 || o.Registry.Graph.MaxJobEdges < 0 {
		errs = append(errs, fmt.Errorf("render and graph limits may not be negative"))
	}
	errs = append(errs, o.Controller.Validate()...)
	return utilerrors.NewAggregate(errs)
}

// Config builds the server configuration.
func (o *Options) Config() (*apiserver.Config, error) {
	if err := o.RecommendedOptions.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", o.AlternateDNS,
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating self-signed certificates: %w", err)
	}
	cfg := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title = "KubeGene Execution"
	cfg.OpenAPIConfig.Info.Version = "v1alpha1"
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title = "KubeGene Execution"
	cfg.OpenAPIV3Config.Info.Version = "v1alpha1"
	if err := o.ServerRun.DefaultAdvertiseAddress(o.RecommendedOptions.SecureServing.SecureServingOptions); err != nil {
		return nil, err
	}
	if err := o.ServerRun.ApplyTo(&cfg.Config); err != nil {
		return nil, fmt.Errorf("applying server run options: %w", err)
	}
	if err := o.RecommendedOptions.ApplyTo(cfg); err != nil {
		return nil, fmt.Errorf("applying options: %w", err)
	}
	return &apiserver.Config{GenericConfig: cfg, Registry: o.Registry}, nil
}

// Run starts the embedded etcd if needed, then serves until ctx is done, then
// shuts down in order: requests drain, then etcd stops.
func (o *Options) Run(ctx context.Context) error {
	return o.RunWithReady(ctx, nil)
}

// RunWithReady is Run, calling ready (if not nil) with the loopback client
// configuration once the server serves. Tests use it to talk to the server.
func (o *Options) RunWithReady(ctx context.Context, ready func(loopback *rest.Config)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.usesEmbeddedEtcd() {
		etcd, err := o.EmbeddedEtcd.start()
		if err != nil {
			return err
		}
		defer etcd.stop()
		o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList = []string{etcd.clientURL}
		if errs := o.RecommendedOptions.Validate(); len(errs) > 0 {
			return utilerrors.NewAggregate(errs)
		}
	}
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	server, err := cfg.Complete().New()
	if err != nil {
		return err
	}
	if cfg.GenericConfig.SharedInformerFactory != nil {
		server.GenericAPIServer.AddPostStartHookOrDie("start-execution-apiserver-informers", func(hookCtx genericapiserver.PostStartHookContext) error {
			cfg.GenericConfig.SharedInformerFactory.Start(hookCtx.Done())
			return nil
		})
	}
	if o.Controller != nil {
		o.Controller.addControllerHooks(server.GenericAPIServer, o.controllerClusterConfig(cfg.GenericConfig.ClientConfig))
	}
	if ready != nil {
		server.GenericAPIServer.AddPostStartHookOrDie("execution-apiserver-ready", func(hookCtx genericapiserver.PostStartHookContext) error {
			ready(rest.CopyConfig(hookCtx.LoopbackClientConfig))
			return nil
		})
	}
	klog.InfoS("Starting execution-apiserver")
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}
