package controller

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unique"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// storedJob is Job index of a 100-job commandsIter task as kube-apiserver
// returns it once it has run: defaulted spec, server-set labels, managed
// fields, a finished status. outcome adds its terminal condition.
func storedJob(t testing.TB, index int, outcome batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	e := newExecution("exec-big", v1alpha1.Task{Name: "align", Type: v1alpha1.TaskTypeJob, Image: "bwa:0.7.17",
		CommandsIter: &v1alpha1.CommandsIter{
			Command:  "bwa mem -t 4 /ref/hg38.fa /data/${1}_R1.fq.gz /data/${1}_R2.fq.gz > /out/${1}.${2}.sam",
			VarsIter: [][]string{sampleNames(10), sampleNames(10)},
		}})
	g, err := buildGraph(e)
	if err != nil {
		t.Fatal(err)
	}
	job := newJob(e, g, 0, index)
	job.UID = types.UID(fmt.Sprintf("8d3c7f0e-2b1a-4c5d-9e8f-%012d", index))
	job.ResourceVersion = fmt.Sprint(100000 + index)
	job.Generation = 1
	now := metav1.NewTime(time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC))
	job.CreationTimestamp = now
	job.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": string(job.UID)}}
	job.Spec.Template.Labels["batch.kubernetes.io/controller-uid"] = string(job.UID)
	job.Spec.Template.Labels["batch.kubernetes.io/job-name"] = job.Name
	job.Spec.Parallelism, job.Spec.Completions = ptr.To[int32](1), ptr.To[int32](1)
	job.Spec.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	job.ManagedFields = []metav1.ManagedFieldsEntry{{
		Manager: "execution-apiserver", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "batch/v1", Time: &now,
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{}},"f:spec":{"f:template":{}}}`)},
	}}
	job.Status = batchv1.JobStatus{StartTime: &now, Ready: ptr.To[int32](0), Terminating: ptr.To[int32](0)}
	// The Job controller sets an interim condition, then the final one.
	switch outcome {
	case batchv1.JobComplete:
		job.Status.CompletionTime = &now
		job.Status.Succeeded = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now},
		}
	case batchv1.JobFailed:
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now,
				Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now,
				Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
		}
	default:
		job.Status.Active = 1
	}
	return job
}

func sampleNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("sample-%04d", i)
	}
	return names
}

func TestRecordOf(t *testing.T) {
	running := storedJob(t, 7, "")
	running.Labels[LabelAttempt] = "3"
	r := recordOf(running)
	want := cachedJob{
		name: "exec-big.align.7", uid: running.UID, resourceVersion: "100007", namespace: unique.Make(testNamespace),
		execution: unique.Make("exec-big"), owner: unique.Make(jobOwner{name: "exec-big", uid: "exec-big-uid"}),
		attempt: 3, outcome: jobActive, hasPods: true,
	}
	if !reflect.DeepEqual(*r, want) {
		t.Errorf("running job: got %+v, want %+v", *r, want)
	}
	if r.executionName() != "exec-big" || r.ownerName() != "exec-big" || r.ownerUID() != "exec-big-uid" {
		t.Errorf("running job: execution %q, owner %q (%s)", r.executionName(), r.ownerName(), r.ownerUID())
	}
	// The cache keys and compares it through metav1.Object.
	if key, err := cache.MetaNamespaceKeyFunc(r); err != nil || key != "default/exec-big.align.7" {
		t.Errorf("cache key of the record: %q, %v", key, err)
	}
	if m, err := meta.Accessor(r); err != nil {
		t.Errorf("metadata of the record: %v", err)
	} else if m.GetResourceVersion() != "100007" || m.GetUID() != running.UID {
		t.Errorf("metadata of the record: resourceVersion %q, uid %q", m.GetResourceVersion(), m.GetUID())
	}

	failed := storedJob(t, 8, batchv1.JobFailed)
	failed.DeletionTimestamp = ptr.To(metav1.Now())
	r = recordOf(failed)
	if r.outcome != jobFailed || r.failure == nil || r.failure.reason != "BackoffLimitExceeded" ||
		r.failure.message != "Job has reached the specified backoff limit" ||
		r.hasPods || r.deletionTimestamp == nil || r.attempt != 1 {
		t.Errorf("failed job: got %+v", *r)
	}

	// A Job with our labels that no Execution of ours controls has no
	// owner here: another kind, or a kind of that name in another group.
	for _, ref := range []metav1.OwnerReference{
		{APIVersion: "batch/v1", Kind: "CronJob", Name: "exec-big", UID: "cron-uid", Controller: ptr.To(true)},
		{APIVersion: "example.com/v1", Kind: "Execution", Name: "exec-big", UID: "other-uid", Controller: ptr.To(true)},
		{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Execution", Name: "exec-big", UID: "exec-big-uid"},
	} {
		foreign := storedJob(t, 9, batchv1.JobComplete)
		foreign.OwnerReferences = []metav1.OwnerReference{ref}
		if r = recordOf(foreign); r.ownerUID() != "" || r.ownerName() != "" || r.outcome != jobSucceeded {
			t.Errorf("job with owner %+v: got %+v", ref, *r)
		}
	}
}

// The transform is idempotent: with watch-list, client-go transforms the
// listed Jobs twice.
func TestCacheJobTransform(t *testing.T) {
	first, err := cacheJob(storedJob(t, 1, batchv1.JobComplete))
	if err != nil {
		t.Fatal(err)
	}
	again, err := cacheJob(first)
	if err != nil {
		t.Fatalf("transforming a cachedJob again: %v", err)
	}
	if again != first {
		t.Errorf("transforming a cachedJob again: %+v; want it unchanged", *again.(*cachedJob))
	}
	if _, err := cacheJob(&corev1.Pod{}); err == nil {
		t.Error("transforming a Pod: no error")
	}
}

func TestCachedJobDeepCopy(t *testing.T) {
	j := recordOf(storedJob(t, 2, batchv1.JobFailed))
	j.deletionTimestamp = ptr.To(metav1.Now())
	cp := j.DeepCopyObject().(*cachedJob)
	cp.deletionTimestamp.Time = cp.deletionTimestamp.Add(time.Hour)
	cp.outcome = jobActive
	cp.failure.message = "changed in the copy"
	if j.outcome != jobFailed || cp.deletionTimestamp.Equal(j.deletionTimestamp) || j.failure.message == cp.failure.message {
		t.Errorf("the copy shares state with the original: %+v", *j)
	}
}

// The Jobs of an Execution are found by its index, whoever controls them.
func TestJobCacheOfExecution(t *testing.T) {
	indexer := cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, cache.Indexers{executionIndex: indexByExecution})
	jc := jobCache{indexer: indexer}
	for i := range 3 {
		obj, _ := cacheJob(storedJob(t, i, batchv1.JobComplete))
		if err := indexer.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	// Labelled for another Execution, though exec-big controls it.
	other := storedJob(t, 3, "")
	other.Labels[LabelExecution] = "other"
	// Labelled for exec-big, though an earlier exec-big controls it.
	earlier := storedJob(t, 4, batchv1.JobFailed)
	earlier.OwnerReferences[0].UID = "earlier-exec-big-uid"
	for _, job := range []*batchv1.Job{other, earlier} {
		obj, _ := cacheJob(job)
		if err := indexer.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, job := range jc.ofExecution(cache.NewObjectName(testNamespace, "exec-big")) {
		names = append(names, job.name)
	}
	assertSameSet(t, "jobs of exec-big", names, "exec-big.align.0", "exec-big.align.1", "exec-big.align.2", "exec-big.align.4")
	if job, ok := jc.get(testNamespace, "exec-big.align.3"); !ok || job.executionName() != "other" {
		t.Errorf("get exec-big.align.3: %v", ok)
	}
	if _, ok := jc.get(testNamespace, "exec-big.align.5"); ok {
		t.Error("get of a Job not in the cache found one")
	}
}

// BenchmarkJobCacheMemory reports the heap that the Job informer's store
// holds per Job: Jobs decoded from kube-apiserver's protobuf, as the
// informer receives them, go through the transform into an indexer with
// the controller's index. The baselines are the common transform that only
// drops managed fields, and slimJobBaseline, a batchv1.Job with only what
// the controller reads (the controller's cache before cachedJob).
func BenchmarkJobCacheMemory(b *testing.B) {
	const jobs = 20000
	wire := make([][]byte, jobs)
	for i := range wire {
		outcome := batchv1.JobComplete
		if i%100 == 0 {
			outcome = ""
		}
		data, err := storedJob(b, i%100, outcome).Marshal()
		if err != nil {
			b.Fatal(err)
		}
		wire[i] = data
	}
	for _, variant := range []struct {
		name      string
		transform cache.TransformFunc
	}{
		{"managedFieldsDropped", stripManagedFields},
		{"slimJob", slimJobBaseline},
		{"cachedJob", cacheJob},
	} {
		b.Run(variant.name, func(b *testing.B) {
			var perJob float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				indexer := cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, cache.Indexers{executionIndex: indexByExecutionOfEither})
				for i, data := range wire {
					job := &batchv1.Job{}
					if err := job.Unmarshal(data); err != nil {
						b.Fatal(err)
					}
					job.Name = fmt.Sprintf("exec-big.align.%d", i)
					obj, err := variant.transform(job)
					if err != nil {
						b.Fatal(err)
					}
					if err := indexer.Add(obj); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perJob = float64(after.HeapAlloc-before.HeapAlloc) / jobs
				runtime.KeepAlive(indexer)
			}
			b.ReportMetric(perJob, "B/job")
		})
	}
}

// slimJobBaseline keeps of a Job what the controller reads, in a
// batchv1.Job: the spec and pod template are empty but still take their
// space in the struct.
func slimJobBaseline(obj any) (any, error) {
	job := obj.(*batchv1.Job)
	slim := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name, Namespace: job.Namespace, UID: job.UID, ResourceVersion: job.ResourceVersion,
			Labels: job.Labels, OwnerReferences: job.OwnerReferences, DeletionTimestamp: job.DeletionTimestamp,
			CreationTimestamp: job.CreationTimestamp,
		},
		Status: batchv1.JobStatus{Active: job.Status.Active},
	}
	for _, c := range job.Status.Conditions {
		if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
			slim.Status.Conditions = append(slim.Status.Conditions, batchv1.JobCondition{
				Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message,
			})
		}
	}
	return slim, nil
}

// indexByExecutionOfEither indexes the baseline's batchv1.Jobs as the
// controller indexes its cachedJobs.
func indexByExecutionOfEither(obj any) ([]string, error) {
	if job, ok := obj.(*batchv1.Job); ok {
		return []string{job.Namespace + "/" + job.Labels[LabelExecution]}, nil
	}
	return indexByExecution(obj)
}
