package jobpermission

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"kubegene.io/kubegene/apis/execution"
)

// rbac allows "create batch jobs" to the listed users in the listed
// namespace, and records what it was asked.
type rbac struct {
	allowed map[string]string // user -> namespace
	asked   []authorizer.Attributes
}

func (r *rbac) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	r.asked = append(r.asked, a)
	if a.GetVerb() == "create" && a.GetAPIGroup() == "batch" && a.GetResource() == "jobs" && r.allowed[a.GetUser().GetName()] == a.GetNamespace() {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "no RBAC policy matched", nil
}

func attributes(userName, namespace string, op admission.Operation, subresource string) admission.Attributes {
	e := &execution.Execution{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: namespace}}
	return admission.NewAttributesRecord(e, nil, execution.Kind("Execution").WithVersion("v1alpha1"), namespace, "x",
		execution.Resource("executions").WithVersion("v1alpha1"), subresource, op, &metav1.CreateOptions{}, false,
		&user.DefaultInfo{Name: userName, Groups: []string{"tenants"}, UID: "uid-" + userName})
}

func TestCreateRequiresJobCreatePermission(t *testing.T) {
	authz := &rbac{allowed: map[string]string{"alice": "tenant-a"}}
	p := New()
	p.SetAuthorizer(authorizer.AuthorizerFunc(authz.Authorize))
	if err := p.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(context.Background(), attributes("alice", "tenant-a", admission.Create, ""), nil); err != nil {
		t.Errorf("alice in tenant-a: %v", err)
	}
	asked := authz.asked[0]
	if asked.GetUser().GetUID() != "uid-alice" || asked.GetUser().GetGroups()[0] != "tenants" || asked.GetAPIVersion() != "v1" {
		t.Errorf("the check must ask as the requesting user, got %+v", asked)
	}

	for _, tc := range []struct{ user, namespace string }{{"alice", "tenant-b"}, {"mallory", "tenant-a"}} {
		err := p.Validate(context.Background(), attributes(tc.user, tc.namespace, admission.Create, ""), nil)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `may not create batch/v1 jobs in namespace "`+tc.namespace+`"`) {
			t.Errorf("%s in %s: %v, want Forbidden naming the missing permission", tc.user, tc.namespace, err)
		}
	}
}

func TestOnlyCreatesOfExecutionsAreChecked(t *testing.T) {
	p := New()
	p.SetAuthorizer(authorizer.AuthorizerFunc((&rbac{}).Authorize))
	if p.Handles(admission.Update) || p.Handles(admission.Delete) || !p.Handles(admission.Create) {
		t.Error("the plugin must handle creates only")
	}
	if err := p.Validate(context.Background(), attributes("mallory", "tenant-a", admission.Create, "status"), nil); err != nil {
		t.Errorf("subresource create checked: %v", err)
	}
	if err := New().ValidateInitialization(); err == nil {
		t.Error("a plugin without an authorizer must not start")
	}
}
