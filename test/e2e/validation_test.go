package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/test/e2e/framework"
)

// invalidExecutions are the files in testdata/invalid and what kubectl apply
// must say about each: the server refuses them at admission (422) with the
// field path and the reason.
var invalidExecutions = map[string][]string{
	"iterate-mismatch.yaml": {
		`The Execution "invalid-iterate-mismatch" is invalid`,
		"spec.tasks[1].dependents[0].target",
		"iterate",
		`task "b" has 3 jobs, task "a" has 2`,
	},
	"cycle.yaml": {
		`The Execution "invalid-cycle" is invalid`,
		".dependents[0].target",
		"dependency cycle",
	},
	"unknown-target.yaml": {
		`The Execution "invalid-unknown-target" is invalid`,
		"spec.tasks[0].dependents[0].target",
		`Not found: "nosuchtask"`,
	},
	"name-too-long.yaml": {
		`The Execution "invalid-name-too-long-for-the-jobs-it-would-create-xxxxxxxxxx" is invalid`,
		"spec.tasks[0].name",
		"more than the 63 allowed",
	},
}

// TestInvalidExecutionsRefused: kubectl apply of each invalid Execution exits
// non-zero with the field path on stderr, and nothing is created.
func TestInvalidExecutionsRefused(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-invalid")

	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(invalidExecutions) {
		t.Errorf("testdata/invalid has %d files, invalidExecutions describes %d: keep them in step", len(files), len(invalidExecutions))
	}
	for _, file := range files {
		base := filepath.Base(file)
		t.Run(strings.TrimSuffix(base, ".yaml"), func(t *testing.T) {
			want, ok := invalidExecutions[base]
			if !ok {
				t.Fatalf("no expectations for %s in invalidExecutions", base)
			}
			k := f.Kubectl.For(t)
			r := k.MustFail("apply", "-f", file, "-n", ns)
			for _, w := range want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.Stderr)
				}
			}
			// A synchronous refusal: nothing was stored.
			name := objectName(t, file)
			got := k.MustFail("get", "execution", name, "-n", ns)
			if !strings.Contains(got.Stderr, "NotFound") {
				t.Errorf("get execution %s after the refused apply: %s", name, got.Stderr)
			}
		})
	}
}

func objectName(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	obj := &metav1.PartialObjectMetadata{}
	if err := yaml.Unmarshal(data, obj); err != nil || obj.Name == "" {
		t.Fatalf("%s: no metadata.name (%v)", file, err)
	}
	return obj.Name
}
