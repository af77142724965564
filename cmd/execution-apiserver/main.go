// Command execution-apiserver serves execution.kubegene.io as a Kubernetes
// aggregated API server.
package main

import (
	"os"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"kubegene.io/kubegene/pkg/cmd/server"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	o := server.NewOptions(os.Stdout, os.Stderr)
	cmd := &cobra.Command{
		Use:   "execution-apiserver",
		Short: "Serve KubeGene Executions as a Kubernetes aggregated API",
		Long: "execution-apiserver serves execution.kubegene.io/v1alpha1 Executions: workflows of shell " +
			"commands run as batch/v1 Jobs in dependency order.",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	cmd.SetContext(ctx)
	o.AddFlags(cmd.Flags())
	os.Exit(cli.Run(cmd))
}
