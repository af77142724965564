package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kubegene.io/kubegene/test/e2e/framework"
)

// deployObjects counts the objects in the YAML files under dir (recursively).
func deployObjects(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	kind := regexp.MustCompile(`(?m)^kind:\s*\S+`)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if kind.MatchString(doc) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeployManifestsServerDryRun: every manifest of artifacts/deploy,
// including ha/, passes the server's admission and validation (dry run), and
// the dry run changes nothing.
func TestDeployManifestsServerDryRun(t *testing.T) {
	f := framework.New(t)
	dir := f.Stack.Path("artifacts/deploy")
	want := deployObjects(t, dir)
	if want < 15 {
		t.Fatalf("only %d objects under %s", want, dir)
	}
	r := f.Kubectl.MustRun("apply", "--dry-run=server", "-R", "-f", dir)
	got := strings.Count(r.Stdout, "(server dry run)")
	if got != want {
		t.Errorf("%d objects dry-run applied, want %d (every object in artifacts/deploy and ha/):\n%s", got, want, r.Stdout)
	}
	for _, obj := range []string{
		"namespace/kubegene-system",
		"serviceaccount/execution-apiserver",
		"clusterrole.rbac.authorization.k8s.io/kubegene:execution-apiserver",
		"clusterrole.rbac.authorization.k8s.io/kubegene:executions:edit",
		"clusterrole.rbac.authorization.k8s.io/kubegene:executions:view",
		"apiservice.apiregistration.k8s.io/v1alpha1.execution.kubegene.io",
		"deployment.apps/execution-apiserver",
		"statefulset.apps/execution-apiserver-etcd",
		"poddisruptionbudget.policy/execution-apiserver",
		"networkpolicy.networking.k8s.io/execution-apiserver-etcd",
		"persistentvolumeclaim/execution-apiserver-etcd",
	} {
		if !strings.Contains(r.Stdout, obj+" ") {
			t.Errorf("no %s in the dry run:\n%s", obj, r.Stdout)
		}
	}

	// Nothing was persisted: the local stack's registration is untouched.
	f.Kubectl.MustFail("get", "deployment", "execution-apiserver", "-n", "kubegene-system")
	if typ := f.Kubectl.MustRun("get", "service", "execution-apiserver", "-n", "kubegene-system", "-o", "jsonpath={.spec.type}").Stdout; typ != "ExternalName" {
		t.Errorf("Service type %q after the dry run, want the local ExternalName", typ)
	}
	if ca := f.Kubectl.MustRun("get", "apiservice", framework.APIService, "-o", "jsonpath={.spec.caBundle}").Stdout; ca == "" {
		t.Errorf("APIService lost its caBundle after the dry run")
	}
	f.Kubectl.MustRun("get", "executions", "-n", "default")
}
