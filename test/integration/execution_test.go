package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned/scheme"
	execregistry "kubegene.io/kubegene/registry/execution"
	"kubegene.io/kubegene/test/seed"
)

func assertVertices(t *testing.T, e *v1alpha1.Execution, phase v1alpha1.ExecutionPhase, message string) {
	t.Helper()
	if len(e.Status.Vertices) != 4 {
		t.Fatalf("%s: %d vertices, want 4", e.Name, len(e.Status.Vertices))
	}
	for name, v := range e.Status.Vertices {
		want := v1alpha1.Vertex{ID: name, Name: name, Phase: phase, Message: message, Children: seed.Children[name]}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s: vertex %s = %+v, want %+v", e.Name, name, v, want)
		}
	}
}

func TestSeedExecutionsLifecycle(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	executions := ts.Client.ExecutionV1alpha1().Executions("default")

	w, err := executions.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	for _, name := range seed.Examples {
		created, err := executions.Create(ctx, example(t, name), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if created.Status.Phase != v1alpha1.PhasePending {
			t.Errorf("%s: phase %q after create, want Pending", name, created.Status.Phase)
		}
		assertVertices(t, created, v1alpha1.PhasePending, "")
		if creator := created.Annotations[v1alpha1.CreatedByAnnotation]; creator != "system:apiserver" {
			t.Errorf("%s: created-by %q, want the loopback user system:apiserver", name, creator)
		}
	}

	// Every watcher gets a rendered object.
	for i := range seed.Examples {
		ev := nextEvent(t, w)
		if ev.Type != watch.Added {
			t.Fatalf("event %d: %s, want ADDED", i, ev.Type)
		}
		assertVertices(t, ev.Object.(*v1alpha1.Execution), v1alpha1.PhasePending, "")
	}

	list, err := executions.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range list.Items {
		names = append(names, list.Items[i].Name)
		assertVertices(t, &list.Items[i], v1alpha1.PhasePending, "")
	}
	sort.Strings(names)
	if want := []string{"exec-iterate", "exec-volume", "exec-whole"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("listed %v, want %v", names, want)
	}

	// The controller's write: compact progress through /status only. A
	// client echoing rendered vertices back must not get them stored.
	whole, err := executions.Get(ctx, "exec-whole", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole.Status.Phase = v1alpha1.PhaseSucceeded
	whole.Status.Message = "execution has run successfully"
	whole.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0-1"}, {Name: "b", Created: "0-1", Succeeded: "0-1"}}
	updated, err := executions.UpdateStatus(ctx, whole, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	assertVertices(t, updated, v1alpha1.PhaseSucceeded, "success")
	ev := nextEvent(t, w)
	if ev.Type != watch.Modified {
		t.Fatalf("event after status update: %s", ev.Type)
	}
	assertVertices(t, ev.Object.(*v1alpha1.Execution), v1alpha1.PhaseSucceeded, "success")

	stored := etcdValue(t, ts, "/registry/execution.kubegene.io/execution.kubegene.io/executions/default/exec-whole")
	if bytes.Contains(stored, []byte("vertices")) || !bytes.Contains(stored, []byte(`"succeeded":"0-1"`)) {
		t.Errorf("stored object must hold compact progress and no vertices:\n%s", stored)
	}

	// Field selector on phase.
	succeeded, err := executions.List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Succeeded"})
	if err != nil {
		t.Fatal(err)
	}
	if len(succeeded.Items) != 1 || succeeded.Items[0].Name != "exec-whole" {
		t.Errorf("status.phase=Succeeded selected %d items", len(succeeded.Items))
	}

	// The main resource ignores status and refuses spec changes.
	whole, _ = executions.Get(ctx, "exec-whole", metav1.GetOptions{})
	whole.Status.Phase = v1alpha1.PhaseFailed
	whole.Labels = map[string]string{"team": "genomics"}
	whole.Annotations[v1alpha1.CreatedByAnnotation] = "mallory"
	relabelled, err := executions.Update(ctx, whole, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("label update: %v", err)
	}
	if relabelled.Status.Phase != v1alpha1.PhaseSucceeded || relabelled.Labels["team"] != "genomics" ||
		relabelled.Annotations[v1alpha1.CreatedByAnnotation] != "system:apiserver" {
		t.Errorf("update through the main resource: phase %q labels %v", relabelled.Status.Phase, relabelled.Labels)
	}
	relabelled.Spec.Tasks[0].Commands = append(relabelled.Spec.Tasks[0].Commands, "echo a3")
	_, err = executions.Update(ctx, relabelled, metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec: Forbidden: spec is immutable") {
		t.Errorf("spec change: %v, want 422 spec is immutable", err)
	}

	assertTable(t, ts)
	assertGraph(t, ts)

	// Deleting works and the watch sees it.
	if err := executions.Delete(ctx, "exec-iterate", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		ev := nextEvent(t, w)
		if ev.Type == watch.Deleted {
			if name := ev.Object.(*v1alpha1.Execution).Name; name != "exec-iterate" {
				t.Errorf("deleted %s", name)
			}
			break
		}
	}
}

func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event within 30s")
	}
	return watch.Event{}
}

func etcdValue(t *testing.T, ts *testServer, key string) []byte {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{ts.EtcdURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Get(context.Background(), key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("etcd get %s: %v (%d keys)", key, err, len(resp.Kvs))
	}
	return resp.Kvs[0].Value
}

func restClient(t *testing.T, ts *testServer) rest.Interface {
	return ts.Client.ExecutionV1alpha1().RESTClient()
}

func assertTable(t *testing.T, ts *testServer) {
	t.Helper()
	body, err := restClient(t, ts).Get().Namespace("default").Resource("executions").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, fmt.Sprintf("%s/%d", c.Name, c.Priority))
	}
	if want := []string{"Name/0", "Phase/0", "Progress/0", "Age/0", "Tasks/1", "Suspended/1", "Message/1"}; !reflect.DeepEqual(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	rows := map[string]string{}
	for _, r := range table.Rows {
		rows[r.Cells[0].(string)] = fmt.Sprintf("%v %v %v %v %v", r.Cells[1], r.Cells[2], r.Cells[4], r.Cells[5], r.Cells[6])
	}
	want := map[string]string{
		"exec-whole":   "Succeeded 4/4 2 false execution has run successfully",
		"exec-iterate": "Pending 0/4 2 false ",
		"exec-volume":  "Pending 0/4 2 false ",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
}

func graphRequest(ts *testServer, name string, params map[string]string) *rest.Request {
	req := ts.Client.ExecutionV1alpha1().RESTClient().Get().Namespace("default").Resource("executions").Name(name).SubResource("graph")
	for k, v := range params {
		req = req.Param(k, v)
	}
	return req
}

func assertGraph(t *testing.T, ts *testServer) {
	t.Helper()
	ctx := context.Background()
	body, err := graphRequest(ts, "exec-whole", nil).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Vertices []struct{ Name, Phase string }
		Edges    []struct{ From, To string }
	}
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatalf("graph is not JSON: %v\n%s", err, body)
	}
	if len(g.Vertices) != 4 || len(g.Edges) != 4 || g.Vertices[0].Phase != "Succeeded" {
		t.Errorf("graph of exec-whole: %s", body)
	}

	res := graphRequest(ts, "exec-iterate", map[string]string{"format": "dot"}).Do(ctx)
	var contentType string
	res.ContentType(&contentType)
	dot, err := res.Raw()
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "text/vnd.graphviz" || !strings.Contains(string(dot), `"exec-iterate.a.1" -> "exec-iterate.b.1";`) {
		t.Errorf("DOT graph (%s):\n%s", contentType, dot)
	}

	body, err = graphRequest(ts, "exec-volume", map[string]string{"level": "task"}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(body), `"edges":[{"from":"a","to":"b","type":"whole"}]`) {
		t.Errorf("task-level graph: %v\n%s", err, body)
	}

	for param, value := range map[string]string{"format": "png", "level": "pod"} {
		res := graphRequest(ts, "exec-whole", map[string]string{param: value}).Do(ctx)
		var code int
		res.StatusCode(&code)
		body, _ := res.Raw()
		var status metav1.Status
		if err := json.Unmarshal(body, &status); err != nil || code != http.StatusBadRequest ||
			status.Reason != metav1.StatusReasonBadRequest || !strings.Contains(status.Message, fmt.Sprintf("unsupported graph %s %q", param, value)) {
			t.Errorf("graph ?%s=%s: %d %s, want a 400 Status", param, value, code, body)
		}
	}
	_, err = graphRequest(ts, "missing", nil).DoRaw(ctx)
	if !apierrors.IsNotFound(err) {
		t.Errorf("graph of a missing execution: %v, want 404", err)
	}
}

func TestInvalidExecutionsAreRefused(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	executions := ts.Client.ExecutionV1alpha1().Executions("default")

	manyCommands := make([]string, 100001)
	for i := range manyCommands {
		manyCommands[i] = "echo " + itoa(i)
	}
	cases := []struct {
		name   string
		mutate func(e *v1alpha1.Execution)
		field  string
		detail string
	}{
		{"iterate length mismatch", func(e *v1alpha1.Execution) {
			e.Spec.Tasks[1].Commands = append(e.Spec.Tasks[1].Commands, "echo b3")
		}, "spec.tasks[1].dependents[0].target", `iterate dependency requires equal job counts: task "b" has 3 jobs, task "a" has 2`},
		{"cycle", func(e *v1alpha1.Execution) {
			e.Spec.Tasks[0].Dependents = []v1alpha1.Dependent{{Target: "b", Type: v1alpha1.DependTypeWhole}}
		}, "spec.tasks[", "dependency cycle: "},
		{"unknown target", func(e *v1alpha1.Execution) {
			e.Spec.Tasks[1].Dependents[0].Target = "c"
		}, "spec.tasks[1].dependents[0].target", `task "b" depends on unknown task "c"`},
		{"job names over 63 characters", func(e *v1alpha1.Execution) {
			e.Name = strings.Repeat("x", 60)
		}, "spec.tasks[0].name", "more than the 63 allowed"},
		{"100,001 commands", func(e *v1alpha1.Execution) {
			e.Spec.Tasks = e.Spec.Tasks[:1]
			e.Spec.Tasks[0].Commands = manyCommands
		}, "spec.tasks", "at most 100000"},
		{"uppercase name", func(e *v1alpha1.Execution) { e.Name = "Exec-Iterate" }, "metadata.name", "RFC 1123"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := example(t, "exec-iterate")
			tc.mutate(e)
			_, err := executions.Create(ctx, e, metav1.CreateOptions{})
			status, ok := err.(apierrors.APIStatus)
			if !ok || status.Status().Code != http.StatusUnprocessableEntity {
				t.Fatalf("create: %v, want 422", err)
			}
			found := false
			for _, c := range status.Status().Details.Causes {
				if strings.HasPrefix(c.Field, tc.field) && strings.Contains(c.Message, tc.detail) {
					found = true
				}
			}
			if !found || !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("no cause on %s containing %q in %+v", tc.field, tc.detail, status.Status().Details.Causes)
			}
		})
	}
	list, err := executions.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("refused executions were stored: %v %d", err, len(list.Items))
	}
}

func TestMalformedBodiesAreRefused(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	valid, _ := json.Marshal(example(t, "exec-whole"))
	unknownField := bytes.Replace(valid, []byte(`"spec":{`), []byte(`"spec":{"bogus":1,`), 1)
	wrongType := bytes.Replace(valid, []byte(`"commands":["echo a1"`), []byte(`"commands":[7`), 1)
	cases := []struct {
		name       string
		body       []byte
		validation string
		code       int
		detail     string
	}{
		{"malformed JSON", []byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution",`), "", http.StatusBadRequest, ""},
		{"wrong type", wrongType, "", http.StatusBadRequest, "cannot unmarshal number"},
		{"unknown field, strict", unknownField, "Strict", http.StatusBadRequest, `unknown field "spec.bogus"`},
		{"null tasks", bytes.Replace(valid, []byte(`"spec":{"tasks":[`), []byte(`"spec":{"tasks":null,"x":[`), 1), "Ignore", http.StatusUnprocessableEntity, "spec.tasks: Required value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := restClient(t, ts).Post().Namespace("default").Resource("executions").
				SetHeader("Content-Type", "application/json").Body(tc.body)
			if tc.validation != "" {
				req = req.Param("fieldValidation", tc.validation)
			}
			err := req.Do(ctx).Error()
			status, ok := err.(apierrors.APIStatus)
			if !ok || int(status.Status().Code) != tc.code || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("got %v, want %d containing %q", err, tc.code, tc.detail)
			}
		})
	}

	// With fieldValidation=Warn an unknown field is dropped with a warning,
	// as kubectl shows it.
	var warnings []string
	cfg := rest.CopyConfig(ts.Config)
	cfg.WarningHandler = warningCollector(func(msg string) { warnings = append(warnings, msg) })
	rc, err := rest.RESTClientFor(withCodec(cfg))
	if err != nil {
		t.Fatal(err)
	}
	err = rc.Post().AbsPath("/apis/execution.kubegene.io/v1alpha1/namespaces/default/executions").
		Param("fieldValidation", "Warn").SetHeader("Content-Type", "application/json").Body(unknownField).Do(ctx).Error()
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], `unknown field "spec.bogus"`) {
		t.Fatalf("warn: err %v warnings %q", err, warnings)
	}

	list, err := ts.Client.ExecutionV1alpha1().Executions("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("want only the warned execution stored: %v %d", err, len(list.Items))
	}
}

type warningCollector func(string)

func (w warningCollector) HandleWarningHeader(code int, agent string, message string) { w(message) }

func withCodec(cfg *rest.Config) *rest.Config {
	cfg.GroupVersion = &v1alpha1.SchemeGroupVersion
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return cfg
}

// Clients that prefer protobuf, such as kube-controller-manager's namespace
// controller deleting a namespace's content, get JSON instead of an error.
func TestProtobufPreferringClientsGetJSON(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	if _, err := ts.Client.ExecutionV1alpha1().Executions("default").Create(ctx, example(t, "exec-whole"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{http.MethodGet, http.MethodDelete} {
		res := restClient(t, ts).Verb(verb).Namespace("default").Resource("executions").
			SetHeader("Accept", "application/vnd.kubernetes.protobuf, application/json").Do(ctx)
		var code int
		var contentType string
		res.StatusCode(&code).ContentType(&contentType)
		body, _ := res.Raw()
		if code != http.StatusOK || contentType != "application/json" || !bytes.Contains(body, []byte(`"name":"exec-whole"`)) {
			t.Errorf("%s collection preferring protobuf: %d %s %.300s", verb, code, contentType, body)
		}
	}
}

// The server's own controller, which works from the compact status, reads
// and writes Executions without rendered vertices; everyone else, watching
// at the same time, gets them.
func TestControllerIdentityReadsCompactStatus(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	asController := rest.CopyConfig(ts.Config)
	asController.Impersonate = rest.ImpersonationConfig{UserName: execregistry.ControllerUser, Groups: []string{"system:masters"}}
	controller := versioned.NewForConfigOrDie(asController).ExecutionV1alpha1().Executions("default")
	user := ts.Client.ExecutionV1alpha1().Executions("default")

	userWatch, err := user.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer userWatch.Stop()
	controllerWatch, err := controller.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer controllerWatch.Stop()

	if _, err := user.Create(ctx, example(t, "exec-whole"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	assertCompact := func(what string, e *v1alpha1.Execution) {
		t.Helper()
		if e.Status.Vertices != nil || meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionVerticesRendered) != nil {
			t.Errorf("%s as the controller: vertices %v, conditions %+v; want the compact status only", what, e.Status.Vertices, e.Status.Conditions)
		}
	}
	assertCompact("watch event", nextEvent(t, controllerWatch).Object.(*v1alpha1.Execution))
	assertVertices(t, nextEvent(t, userWatch).Object.(*v1alpha1.Execution), v1alpha1.PhasePending, "")

	got, err := controller.Get(ctx, "exec-whole", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertCompact("get", got)
	list, err := controller.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list as the controller: %v, %d items", err, len(list.Items))
	}
	assertCompact("list", &list.Items[0])

	got.Status.Phase = v1alpha1.PhaseRunning
	got.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0"}}
	updated, err := controller.UpdateStatus(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertCompact("status update", updated)
	assertCompact("watch event", nextEvent(t, controllerWatch).Object.(*v1alpha1.Execution))
	rendered := nextEvent(t, userWatch).Object.(*v1alpha1.Execution)
	if v := rendered.Status.Vertices["exec-whole.a.0"]; v.Phase != v1alpha1.PhaseSucceeded || v.Message != "success" {
		t.Errorf("user's watch after the controller's write: vertex a.0 = %+v, want Succeeded with message success", v)
	}
	if creator := updated.Annotations[v1alpha1.CreatedByAnnotation]; creator != "system:apiserver" {
		t.Errorf("created-by after the controller's status write = %q, want the creator system:apiserver", creator)
	}
}
