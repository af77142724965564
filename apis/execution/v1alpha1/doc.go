// Package v1alpha1 is the v1alpha1 wire version of the execution.kubegene.io
// API. Its JSON field names are the ones users write in their Execution YAML.
//
// +k8s:openapi-gen=true
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=kubegene.io/kubegene/apis/execution
// +k8s:defaulter-gen=TypeMeta
// +groupName=execution.kubegene.io
// +k8s:openapi-model-package=io.kubegene.execution.v1alpha1
package v1alpha1
