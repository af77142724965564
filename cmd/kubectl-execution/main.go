// Command kubectl-execution is the kubectl plugin for KubeGene Executions:
// `kubectl execution watch|describe|graph|logs|retry|suspend|resume`.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"kubegene.io/kubegene/pkg/plugin"
)

func main() {
	os.Exit(plugin.Main(os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
