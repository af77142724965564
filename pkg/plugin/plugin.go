// Package plugin is `kubectl execution`, the kubectl plugin for the things
// users of KubeGene do every day: watch an Execution's progress, read its
// graph, its jobs' logs, a summary, and steer it (retry, suspend, resume).
// It is built on the same kubeconfig handling as kubectl (--kubeconfig,
// --context, -n), so contexts, namespaces and RBAC work as they do there.
package plugin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned"
)

// options are what every command needs: where the cluster is, and the
// streams to talk on.
type options struct {
	config *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
}

// clients connects to the cluster the kubeconfig names.
type clients struct {
	executions versioned.Interface
	kube       kubernetes.Interface
	namespace  string
}

func (o *options) clients() (*clients, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	ns, _, err := o.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	executions, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{executions: executions, kube: kube, namespace: ns}, nil
}

// NewCommand returns the root command, `kubectl execution`.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{config: genericclioptions.NewConfigFlags(true), IOStreams: streams}
	root := &cobra.Command{
		Use:   "kubectl execution",
		Short: "Watch, inspect and steer KubeGene Executions",
		Long: `Watch, inspect and steer KubeGene Executions (execution.kubegene.io).

It uses your kubeconfig as kubectl does: --kubeconfig, --context, -n.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	o.config.AddFlags(root.PersistentFlags())
	root.AddCommand(
		newWatchCommand(o),
		newDescribeCommand(o),
		newGraphCommand(o),
		newLogsCommand(o),
		newRetryCommand(o),
		newSuspendCommand(o, true),
		newSuspendCommand(o, false),
	)
	return root
}

// Main runs the plugin and returns its exit code: 0 on success, 1 on an
// error (printed as one line), 2 for an Execution that failed.
func Main(args []string, streams genericiooptions.IOStreams) int {
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(streams.ErrOut, "error: "+Explain(err))
	var failed *executionFailedError
	if errors.As(err, &failed) {
		return 2
	}
	return 1
}

// executionFailedError is the end of a watch of an Execution that failed.
type executionFailedError struct {
	name, message string
}

func (e *executionFailedError) Error() string {
	return fmt.Sprintf("execution %s failed: %s", e.name, e.message)
}

// Explain turns an error into the one line a user needs: what was not
// found, which permission is missing, which server cannot be reached.
func Explain(err error) string {
	var status apierrors.APIStatus
	switch {
	case errors.As(err, &status) && apierrors.IsNotFound(err):
		d := status.Status().Details
		if d != nil && d.Name != "" {
			return fmt.Sprintf("%s %q not found", kindOf(d.Kind, d.Group), d.Name)
		}
		return status.Status().Message
	case errors.As(err, &status) && apierrors.IsForbidden(err):
		return "forbidden: " + status.Status().Message
	case errors.As(err, &status):
		return status.Status().Message
	}
	var urlErr *url.Error
	var netErr *net.OpError
	if errors.As(err, &urlErr) && errors.As(err, &netErr) {
		return fmt.Sprintf("cannot reach the server at %s: %v", hostOf(urlErr.URL), netErr.Err)
	}
	if errors.Is(err, os.ErrNotExist) && strings.Contains(err.Error(), "kubeconfig") {
		return "no kubeconfig: " + err.Error()
	}
	return err.Error()
}

func kindOf(kind, group string) string {
	if kind == "" {
		kind = "execution"
	}
	if group == "" || group == v1alpha1.GroupName {
		return kind
	}
	return kind + "." + group
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return raw
}

// oneName checks that a command got exactly the Execution's name.
func oneName(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("exactly one execution name is needed, got %d", len(args))
	}
	return nil
}
