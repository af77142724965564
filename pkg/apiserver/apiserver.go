// Package apiserver assembles the execution.kubegene.io API group into a
// generic API server.
package apiserver

import (
	"fmt"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/install"
	executionregistry "kubegene.io/kubegene/registry/execution"
)

var (
	// Scheme knows the internal and wire types of the API group.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes the API group's objects.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	install.Install(Scheme)

	// The generic server decodes options (e.g. ListOptions) as v1 and serves
	// the unversioned meta types.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// Config is the configuration of the Execution API server.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	Registry      executionregistry.Options
}

// CompletedConfig is a Config whose defaults have been filled in.
type CompletedConfig struct {
	generic  genericapiserver.CompletedConfig
	registry executionregistry.Options
}

// Complete fills in the generic server's defaults.
func (c *Config) Complete() CompletedConfig {
	buildChain := c.GenericConfig.BuildHandlerChainFunc
	c.GenericConfig.BuildHandlerChainFunc = func(apiHandler http.Handler, conf *genericapiserver.Config) http.Handler {
		// Innermost, so that the storage sees what the handlers will
		// make of its results.
		return buildChain(executionregistry.WithRepresentation(apiHandler, groupSerializer), conf)
	}
	return CompletedConfig{generic: c.GenericConfig.Complete(), registry: c.Registry}
}

// Server is the Execution API server.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// New builds the server and installs the API group.
func (c CompletedConfig) New() (*Server, error) {
	generic, err := c.generic.New("execution-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("creating generic API server: %w", err)
	}
	storage, err := executionregistry.NewStorage(Scheme, c.generic.RESTOptionsGetter, c.registry)
	if err != nil {
		return nil, err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(execution.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	// The default group info's codecs encode lists item by item into the
	// response (streaming collection encoding), so a large list is never
	// held encoded in memory; keep them, less protobuf.
	group.NegotiatedSerializer = withoutProtobuf{group.NegotiatedSerializer}
	group.VersionedResourcesStorageMap["v1alpha1"] = map[string]rest.Storage{
		"executions":        storage.Execution,
		"executions/status": storage.Status,
		"executions/graph":  storage.Graph,
		"executions/retry":  storage.Retry,
	}
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, fmt.Errorf("installing API group %s: %w", execution.GroupName, err)
	}
	return &Server{GenericAPIServer: generic}, nil
}

// groupSerializer offers the media types the API group serves, for
// negotiating a response's representation before the handlers do.
var groupSerializer runtime.NegotiatedSerializer = withoutProtobuf{Codecs}

// withoutProtobuf serves the API group as JSON, YAML and CBOR only. Its types
// have no protobuf encoding; clients such as the namespace controller ask
// for protobuf first and fall back to JSON when it is not offered, but fail
// if it is offered and then cannot be encoded.
type withoutProtobuf struct {
	runtime.NegotiatedSerializer
}

func (n withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range n.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}
