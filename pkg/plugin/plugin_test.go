package plugin

import (
	"bytes"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{apierrors.NewNotFound(v1alpha1.Resource("executions"), "nope"), `executions "nope" not found`},
		{apierrors.NewForbidden(schema.GroupResource{Group: v1alpha1.GroupName, Resource: "executions/retry"}, "x",
			errOf(`User "vic" cannot create resource "executions/retry"`)), `forbidden: executions/retry.execution.kubegene.io "x" is forbidden: User "vic" cannot create resource "executions/retry"`},
		{apierrors.NewConflict(v1alpha1.Resource("executions"), "x", errOf("only a Failed execution can be retried")), "only a Failed execution can be retried"},
	}
	for _, tc := range tests {
		if got := Explain(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("Explain(%v) = %q, want it to contain %q", tc.err, got, tc.want)
		}
	}
}

type errOf string

func (e errOf) Error() string { return string(e) }

// An unreachable server is one line naming it, and exit code 1.
func TestUnreachableServer(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"describe", "x", "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify", "--kubeconfig", "/dev/null"},
		genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	if code != 1 || !strings.HasPrefix(errOut.String(), "error: cannot reach the server at https://127.0.0.1:1") || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming the server", code, errOut.String())
	}
}

func TestUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"watch"}, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut}); code != 1 || !strings.Contains(errOut.String(), "exactly one execution name") {
		t.Errorf("watch without a name: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"graph", "x", "-o", "pdf"}, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut}); code != 1 || !strings.Contains(errOut.String(), "use json, dot, svg or png") {
		t.Errorf("graph -o pdf: exit %d, %q", code, errOut.String())
	}
}
