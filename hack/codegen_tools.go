//go:build tools

// Package hack pins the code generators in go.mod so that
// hack/update-codegen.sh always runs the versions the project was built with.
package hack

import (
	_ "k8s.io/code-generator"
	_ "k8s.io/kube-openapi/cmd/openapi-gen"
)
