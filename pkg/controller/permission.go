package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// DefaultPermissionCheckInterval is how long the answer to "may the creator
// of this Execution still create Jobs?" is trusted: a revoked RoleBinding
// stops an Execution's new Jobs within this time, at the cost of one
// SubjectAccessReview per running Execution per interval.
const DefaultPermissionCheckInterval = 30 * time.Second

// permission is the answer of one check.
type permission struct {
	uid       types.UID
	allowed   bool
	reason    string
	checkedAt time.Time
}

// permissionChecker answers whether an Execution's creator may still
// create Jobs in its namespace, from SubjectAccessReviews in the creator's
// name — never impersonating them — cached per Execution for an interval.
type permissionChecker struct {
	reviews  authorizationclient.SubjectAccessReviewInterface
	now      func() time.Time
	interval time.Duration

	mu      sync.Mutex
	answers map[cache.ObjectName]permission
}

func newPermissionChecker(reviews authorizationclient.SubjectAccessReviewInterface, now func() time.Time, interval time.Duration) *permissionChecker {
	return &permissionChecker{reviews: reviews, now: now, interval: interval, answers: map[cache.ObjectName]permission{}}
}

// allowed reports whether e's creator may create Jobs in e's namespace,
// and if not, why; recheck is when to ask again. An Execution stored
// without a creator (created before the server recorded them) is not
// checked: the admission check at its creation is all there is.
func (p *permissionChecker) allowed(ctx context.Context, key cache.ObjectName, e *v1alpha1.Execution) (ok bool, reason string, recheck time.Duration, err error) {
	creator := e.Spec.Creator
	if creator == nil || creator.Username == "" {
		return true, "", 0, nil
	}
	now := p.now()
	p.mu.Lock()
	a, cached := p.answers[key]
	p.mu.Unlock()
	if cached && a.uid == e.UID && now.Sub(a.checkedAt) < p.interval {
		return a.allowed, a.reason, p.interval - now.Sub(a.checkedAt), nil
	}

	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   creator.Username,
		UID:    creator.UID,
		Groups: creator.Groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: e.Namespace, Verb: "create", Group: "batch", Version: "v1", Resource: "jobs",
		},
	}}
	for k, v := range creator.Extra {
		if review.Spec.Extra == nil {
			review.Spec.Extra = map[string]authorizationv1.ExtraValue{}
		}
		review.Spec.Extra[k] = authorizationv1.ExtraValue(v)
	}
	result, err := p.reviews.Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		permissionChecks.WithLabelValues("error").Inc()
		return false, "", 0, fmt.Errorf("checking that %s may still create jobs in namespace %s: %w", creator.Username, e.Namespace, err)
	}
	a = permission{uid: e.UID, allowed: result.Status.Allowed && !result.Status.Denied, checkedAt: now}
	if !a.allowed {
		a.reason = fmt.Sprintf("user %q may no longer create jobs in namespace %s", creator.Username, e.Namespace)
		if why := result.Status.Reason; why != "" {
			a.reason += ": " + why
		}
		a.reason += "; no new job starts until the permission is granted again"
		permissionChecks.WithLabelValues("denied").Inc()
	} else {
		permissionChecks.WithLabelValues("allowed").Inc()
	}
	p.mu.Lock()
	p.answers[key] = a
	p.mu.Unlock()
	return a.allowed, a.reason, p.interval, nil
}

// forget drops the answer for an Execution that is gone or finished.
func (p *permissionChecker) forget(key cache.ObjectName) {
	p.mu.Lock()
	delete(p.answers, key)
	p.mu.Unlock()
}
