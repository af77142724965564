// Package install registers the execution.kubegene.io API group in a scheme.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// Install registers the internal and every wire version of the API group.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(execution.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1alpha1.SchemeGroupVersion))
}
