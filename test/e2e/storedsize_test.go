package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// The cohort of TestHundredThousandJobsStoredCompactly: 1,219 samples, each
// aligned and called on 41 scatter intervals (49,979 jobs per task), joint
// genotyping per interval (41 jobs) and one report: 100,000 jobs, the
// server's default --max-jobs-per-execution.
const (
	cohortSamples   = 1219
	cohortIntervals = 41
	cohortJobs      = 2*cohortSamples*cohortIntervals + cohortIntervals + 1
	// maxStoredExecutionBytes is what one 100,000-job Execution may occupy
	// in etcd.
	maxStoredExecutionBytes = 256 << 10
)

// cohortCommands are the templates of the cohort's tasks (${1} the sample,
// ${2} the interval; for joint, ${1} the interval).
var cohortCommands = map[string]string{
	"align": "bwa mem -t 4 /ref/hg38.fa /data/${1}_R1.fq.gz /data/${1}_R2.fq.gz | samtools view -b -L /ref/intervals/${2}.bed -o /out/${1}.${2}.bam",
	"call":  "gatk HaplotypeCaller -R /ref/hg38.fa -I /out/${1}.${2}.bam -L /ref/intervals/${2}.bed -ERC GVCF -O /out/${1}.${2}.g.vcf.gz",
	"joint": "gatk GenotypeGVCFs -R /ref/hg38.fa -V gendb:///out/genomicsdb.${1} -L /ref/intervals/${1}.bed -O /out/cohort.${1}.vcf.gz",
}

func cohortSampleNames() []string {
	out := make([]string, cohortSamples)
	for i := range out {
		out[i] = fmt.Sprintf("NA%05d", 10001+i)
	}
	return out
}

func cohortIntervalNames() []string {
	out := make([]string, cohortIntervals)
	for i := range out {
		out[i] = fmt.Sprintf("%04d-scattered", i)
	}
	return out
}

// cohortManifest is the suspended 100,000-job Execution: every task but the
// report is a commandsIter.
func cohortManifest(name string) string {
	list := func(values []string) string { return "[" + strings.Join(values, ", ") + "]" }
	samples, intervals := list(cohortSampleNames()), list(cohortIntervalNames())
	return fmt.Sprintf(`apiVersion: execution.kubegene.io/v1alpha1
kind: Execution
metadata:
  name: %s
spec:
  suspend: true
  tasks:
  - name: align
    type: Job
    image: biocontainers/bwa:v0.7.17_cv1
    commandsIter:
      command: %q
      varsIter:
      - %s
      - %s
    resources: {cpu: "4", memory: 8Gi}
    dependents: null
  - name: call
    type: Job
    image: broadinstitute/gatk:4.5.0.0
    commandsIter:
      command: %q
      varsIter:
      - %s
      - %s
    resources: {cpu: "2", memory: 8Gi}
    dependents:
    - target: align
      type: iterate
  - name: joint
    type: Job
    image: broadinstitute/gatk:4.5.0.0
    commandsIter:
      command: %q
      varsIter:
      - %s
    dependents:
    - target: call
      type: whole
  - name: report
    type: Job
    image: quay.io/biocontainers/bcftools:1.19--h8b25389_1
    commands:
    - "bcftools concat -O z -o /out/cohort.vcf.gz /out/cohort.*.vcf.gz"
    dependents:
    - target: joint
      type: whole
`, name, cohortCommands["align"], samples, intervals, cohortCommands["call"], samples, intervals, cohortCommands["joint"], intervals)
}

// cohortCommandsListBytes is what the same jobs would take as `commands`
// lists in JSON: every generated command, quoted, with its comma.
func cohortCommandsListBytes() int {
	n := len(`"bcftools concat -O z -o /out/cohort.vcf.gz /out/cohort.*.vcf.gz",`)
	expand := func(tmpl string, vars ...string) string {
		for i, v := range vars {
			tmpl = strings.ReplaceAll(tmpl, fmt.Sprintf("${%d}", i+1), v)
		}
		return tmpl
	}
	for _, interval := range cohortIntervalNames() {
		for _, sample := range cohortSampleNames() {
			n += len(expand(cohortCommands["align"], sample, interval)) + 3
			n += len(expand(cohortCommands["call"], sample, interval)) + 3
		}
		n += len(expand(cohortCommands["joint"], interval)) + 3
	}
	return n
}

// TestHundredThousandJobsStoredCompactly: an Execution of 100,000 jobs,
// written as commandsIter templates, is created with `kubectl create`
// (suspended, so the cluster runs none of them), shows 0/100000 in
// `kubectl get exec`, and takes at most 256 KiB in the execution-apiserver's
// etcd, read there directly, both as created and after the controller wrote
// its status. Nothing rendered (status.vertices) is stored.
func TestHundredThousandJobsStoredCompactly(t *testing.T) {
	f := framework.New(t)
	k := f.Kubectl
	endpoint, prefix, err := f.Stack.ExecutionEtcd()
	if err != nil {
		t.Fatalf("cannot read what the execution-apiserver stores: %v", err)
	}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("etcd client for %s: %v", endpoint, err)
	}
	defer etcd.Close()

	ns := f.CreateNamespace("e2e-100k")
	const name = "cohort"
	key := path.Join(prefix, "execution.kubegene.io", "executions", ns, name)
	// stored reads the Execution as etcd holds it, at revision rev (0: the
	// latest).
	stored := func(rev int64) *mvccKV {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := etcd.Get(ctx, key, clientv3.WithRev(rev))
		if err != nil {
			t.Fatalf("etcd get %s (revision %d) at %s: %v", key, rev, endpoint, err)
		}
		if len(r.Kvs) != 1 {
			keys, _ := etcd.Get(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(20))
			var names []string
			if keys != nil {
				for _, kv := range keys.Kvs {
					names = append(names, string(kv.Key))
				}
			}
			t.Fatalf("etcd at %s has no key %s; keys under %s/: %v", endpoint, key, prefix, names)
		}
		kv := &mvccKV{size: len(r.Kvs[0].Value), createRevision: r.Kvs[0].CreateRevision, modRevision: r.Kvs[0].ModRevision}
		if err := json.Unmarshal(r.Kvs[0].Value, &kv.obj); err != nil {
			t.Fatalf("stored value of %s is not JSON (%d bytes): %v", key, kv.size, err)
		}
		kv.status, _ = kv.obj["status"].(map[string]any)
		return kv
	}
	checkStored := func(when string, kv *mvccKV) {
		t.Helper()
		t.Logf("stored size %s (etcd revision %d): %d bytes (%.1f KiB) for %d jobs, %.2f bytes per job",
			when, kv.modRevision, kv.size, float64(kv.size)/1024, cohortJobs, float64(kv.size)/cohortJobs)
		if kv.size > maxStoredExecutionBytes {
			t.Errorf("stored size %s: %d bytes, want at most %d", when, kv.size, maxStoredExecutionBytes)
		}
		if _, ok := kv.status["vertices"]; ok {
			t.Errorf("status.vertices is stored %s: it must be rendered on read only", when)
		}
		if kv.condition(v1alpha1.ConditionVerticesRendered) != nil {
			t.Errorf("condition VerticesRendered is stored %s: it must be rendered on read only", when)
		}
	}

	manifest := cohortManifest(name)
	if cohortJobs != 100000 {
		t.Fatalf("the cohort has %d jobs, want 100000", cohortJobs)
	}
	t0 := time.Now()
	k.MustRunInput(manifest, "create", "-n", ns, "-f", "-")
	t.Logf("kubectl create of %d jobs (manifest %d bytes; as commands lists the jobs' commands alone would be %d bytes) took %s",
		cohortJobs, len(manifest), cohortCommandsListBytes(), time.Since(t0).Round(time.Millisecond))
	// The controller sees it and writes its status: suspended, no Job.
	var latest *mvccKV
	f.WaitFor(time.Minute, "the controller to store condition Suspended=True", func() (bool, string) {
		latest = stored(0)
		c := latest.condition(v1alpha1.ConditionSuspended)
		return c != nil && c["status"] == "True", "stored status " + compactJSON(latest.status)
	})
	// As kubectl create stored it (the revision that created the key), and
	// with the controller's status.
	checkStored("as created", stored(latest.createRevision))
	checkStored("after the controller's status write", latest)
	t.Logf("stored status: %s", compactJSON(latest.status))

	// A GET says why it carries no vertices.
	t0 = time.Now()
	r := k.MustRun("get", "execution", name, "-n", ns, "-o", "json")
	t.Logf("kubectl get -o json: %d bytes (indented) in %s", len(r.Stdout), time.Since(t0).Round(time.Millisecond))
	got := &v1alpha1.Execution{}
	if err := json.Unmarshal([]byte(r.Stdout), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Vertices) != 0 {
		t.Errorf("a GET of %d jobs rendered %d vertices, want none (over --max-rendered-vertices)", cohortJobs, len(got.Status.Vertices))
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionVerticesRendered); c == nil || c.Status != "False" || c.Reason != "TooLarge" ||
		!strings.Contains(c.Message, "100000 jobs") {
		t.Errorf("condition VerticesRendered of a GET: %+v, want False, TooLarge, naming 100000 jobs", c)
	}
	conditions := k.MustRun("get", "execution", name, "-n", ns, "-o", "jsonpath={.status.conditions}").Stdout
	if !strings.Contains(conditions, `"type":"VerticesRendered"`) || !strings.Contains(conditions, `"reason":"TooLarge"`) {
		t.Errorf("kubectl get -o jsonpath={.status.conditions}: %s, want VerticesRendered False TooLarge", conditions)
	}

	// The table: progress 0/100000, suspended.
	row := mustTable(t, k.MustRun("get", "exec", name, "-n", ns).Stdout).Row("NAME", name)
	if row == nil || row["PROGRESS"] != "0/100000" || row["PHASE"] != string(v1alpha1.PhasePending) {
		t.Errorf("kubectl get exec: row %v, want PHASE Pending, PROGRESS 0/100000", row)
	}
	wide := mustTable(t, k.MustRun("get", "exec", name, "-n", ns, "-o", "wide").Stdout).Row("NAME", name)
	if wide == nil || wide["PROGRESS"] != "0/100000" || wide["TASKS"] != "4" || wide["SUSPENDED"] != "true" {
		t.Errorf("kubectl get exec -o wide: row %v, want PROGRESS 0/100000, TASKS 4, SUSPENDED true", wide)
	}

	// Suspended from the start: not one Job.
	jobs := k.MustRun("get", "jobs", "-n", ns, "-l", v1alpha1.LabelExecution+"="+name, "-o", "name").Stdout
	if strings.TrimSpace(jobs) != "" {
		t.Errorf("jobs of a suspended Execution: %s, want none", jobs)
	}
}

// mvccKV is an Execution as its etcd holds it.
type mvccKV struct {
	size                        int
	createRevision, modRevision int64
	obj, status                 map[string]any
}

// condition is the stored status condition of type typ, or nil.
func (kv *mvccKV) condition(typ string) map[string]any {
	conditions, _ := kv.status["conditions"].([]any)
	for _, c := range conditions {
		if m, _ := c.(map[string]any); m["type"] == typ {
			return m
		}
	}
	return nil
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
