package execution

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
)

// representationKey is the context key under which WithRepresentation
// records what the response of a request will hold.
type representationKey struct{}

// WithRepresentation records in the request's context whether the client
// asked for a Table (what `kubectl get` prints) or for metadata only
// (PartialObjectMetadata, what the garbage collector and the quota
// controller read). The storage serves those without rendering
// status.vertices: a table's columns and metadata never show them, and
// rendering is what a read of a large Execution costs.
//
// It negotiates the response's media type the way the API handlers will,
// from the Accept header and the group's serializers, so it agrees with
// them on which representation the client gets.
func WithRepresentation(handler http.Handler, serializer runtime.NegotiatedSerializer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		options, _, err := negotiation.NegotiateOutputMediaType(req, serializer, transformRestrictions{})
		// A table may embed the objects themselves (includeObject=Object,
		// as kubectl get --sort-by asks): those are read whole.
		embedsObjects := req.URL.Query().Get("includeObject") == string(metav1.IncludeObject)
		if err == nil && options.Convert != nil && !embedsObjects {
			req = req.WithContext(context.WithValue(req.Context(), representationKey{}, *options.Convert))
		}
		handler.ServeHTTP(w, req)
	})
}

// withoutVertices reports whether the response to the request of ctx is a
// representation that never shows status.vertices.
func withoutVertices(ctx context.Context) bool {
	gvk, ok := ctx.Value(representationKey{}).(schema.GroupVersionKind)
	return ok && isMetaTransform(&gvk)
}

// isMetaTransform reports whether gvk names one of the meta.k8s.io
// representations the API handlers convert objects to.
func isMetaTransform(gvk *schema.GroupVersionKind) bool {
	if gv := gvk.GroupVersion(); gv != metav1.SchemeGroupVersion && gv != metav1beta1.SchemeGroupVersion {
		return false
	}
	switch gvk.Kind {
	case "Table", "PartialObjectMetadata", "PartialObjectMetadataList":
		return true
	}
	return false
}

// transformRestrictions accepts the transforms the resource's handlers
// accept: Table as JSON or YAML, metadata in any of the group's encodings.
type transformRestrictions struct{}

func (transformRestrictions) AllowsMediaTypeTransform(mimeType, mimeSubType string, gvk *schema.GroupVersionKind) bool {
	switch {
	case gvk == nil:
		return true
	case !isMetaTransform(gvk):
		return false
	case gvk.Kind == "Table":
		return mimeType == "application" && (mimeSubType == "json" || mimeSubType == "yaml")
	}
	return true
}

func (transformRestrictions) AllowsServerVersion(string) bool  { return false }
func (transformRestrictions) AllowsStreamSchema(s string) bool { return s == "watch" }
