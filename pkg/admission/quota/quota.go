// Package quota makes ResourceQuota objects limit the Executions of a
// namespace (count/executions.execution.kubegene.io). Requests to this
// server never pass kube-apiserver's quota admission, so the server runs the
// apiserver library's ResourceQuota plugin itself; kube-controller-manager's
// quota controller computes the usage, as for any aggregated resource.
package quota

import (
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"

	"kubegene.io/kubegene/apis/execution"
)

// PluginName is the admission plugin that enforces the quotas.
const PluginName = resourcequota.PluginName

// Register registers the ResourceQuota admission plugin.
func Register(plugins *admission.Plugins) {
	resourcequota.Register(plugins)
}

// Configuration is what the quotas count here: Executions, one each.
// Usage itself is computed by kube-controller-manager, so the evaluator
// needs no lister.
func Configuration() quota.Configuration {
	return generic.NewConfiguration([]quota.Evaluator{
		generic.NewObjectCountEvaluator(execution.Resource("executions"), nil, ""),
	}, nil)
}

// Initializer hands the ResourceQuota plugin its configuration.
type Initializer struct{}

var _ admission.PluginInitializer = Initializer{}

// Initialize sets the quota configuration on the plugins that want it.
func (Initializer) Initialize(p admission.Interface) {
	if wants, ok := p.(initializer.WantsQuotaConfiguration); ok {
		wants.SetQuotaConfiguration(Configuration())
	}
}
