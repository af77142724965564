// Package jobpermission is an admission plugin that stops an Execution from
// becoming a way around RBAC: the controller creates Jobs on the user's
// behalf, so creating an Execution requires the permission to create
// batch/v1 Jobs in its namespace.
package jobpermission

import (
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	genericadmissioninitializer "k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"kubegene.io/kubegene/apis/execution"
)

// PluginName is the name of the plugin in --enable-admission-plugins and
// --disable-admission-plugins.
const PluginName = "ExecutionJobPermission"

// Register registers the plugin.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return New(), nil
	})
}

// Plugin checks that whoever creates an Execution may create its Jobs.
type Plugin struct {
	*admission.Handler
	authz authorizer.Authorizer
}

var (
	_ admission.ValidationInterface               = &Plugin{}
	_ genericadmissioninitializer.WantsAuthorizer = &Plugin{}
)

// New returns the plugin; it acts on creates (of Executions and of retries)
// only: the spec is immutable but for suspend.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create)}
}

// SetAuthorizer receives the server's (delegated) authorizer.
func (p *Plugin) SetAuthorizer(a authorizer.Authorizer) { p.authz = a }

// ValidateInitialization fails start-up if the server has no authorizer.
func (p *Plugin) ValidateInitialization() error {
	if p.authz == nil {
		return errors.New("missing authorizer")
	}
	return nil
}

// Validate asks the authorizer whether the requesting user, with the same
// groups, extra and UID, may create Jobs in the Execution's namespace.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	// A create, and a retry, make the controller create Jobs.
	if a.GetResource().GroupResource() != execution.Resource("executions") || (a.GetSubresource() != "" && a.GetSubresource() != "retry") {
		return nil
	}
	user := a.GetUserInfo()
	if user == nil {
		return admission.NewForbidden(a, errors.New("no user in the request"))
	}
	decision, reason, err := p.authz.Authorize(ctx, authorizer.AttributesRecord{
		User:            user,
		Verb:            "create",
		APIGroup:        "batch",
		APIVersion:      "v1",
		Resource:        "jobs",
		Namespace:       a.GetNamespace(),
		ResourceRequest: true,
	})
	if decision == authorizer.DecisionAllow {
		return nil
	}
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("checking whether %q may create jobs: %w", user.GetName(), err))
	}
	msg := fmt.Sprintf("user %q may not create batch/v1 jobs in namespace %q, and an execution creates jobs on its behalf", user.GetName(), a.GetNamespace())
	if reason != "" {
		msg += ": " + reason
	}
	return admission.NewForbidden(a, errors.New(msg))
}
