// Package execution is the internal (hub) version of the execution.kubegene.io
// API: the form the server validates, stores through and converts to every
// wire version.
//
// +k8s:deepcopy-gen=package
// +groupName=execution.kubegene.io
package execution
