package controller

import (
	"sync"
	"sync/atomic"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	// Registers client-go's work-queue metrics (depth, adds, latency, ...)
	// in legacyregistry, which the generic API server serves on /metrics.
	_ "k8s.io/component-base/metrics/prometheus/workqueue"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

const (
	metricsNamespace = "kubegene"
	metricsSubsystem = "controller"
)

var (
	jobsCreated = metrics.NewCounter(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "jobs_created_total",
		Help:           "Jobs created by the execution controller.",
		StabilityLevel: metrics.ALPHA,
	})

	executionsByPhase = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "executions",
		Help:           "Executions known to the execution controller, by phase.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"phase"})

	// dependencyToStart is the controller's own latency: from observing the
	// completion that made a Job ready to that Job being created. Fine
	// buckets from 1 ms to 10 s, since the interesting range is the API
	// round trips and queueing in between. By the type of that last
	// dependency: one completion makes one Job ready through an iterate
	// dependency, but all Jobs of the dependent task through a whole one,
	// and those are created together.
	dependencyToStart = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "dependency_to_start_seconds",
		Help:           "Time from observing the completion of a Job's last dependency to the successful creation of the Job, by the type of that dependency (whole or iterate).",
		Buckets:        metrics.ExponentialBucketsRange(0.001, 10, 25),
		StabilityLevel: metrics.ALPHA,
	}, []string{"dependency"})

	// permissionChecks counts the SubjectAccessReviews that check an
	// Execution's creator may still create Jobs, by result: allowed,
	// denied or error.
	permissionChecks = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "permission_checks_total",
		Help:           "SubjectAccessReviews checking that the creator of an Execution may still create Jobs, by result (allowed, denied, error).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})

	// activeJobs is what the flow control counts: Jobs created and not
	// finished, over all Executions.
	activeJobs = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "active_jobs",
		Help:           "Jobs created by the execution controller that have not finished, over all Executions (bounded by --max-active-jobs).",
		StabilityLevel: metrics.ALPHA,
	})

	// jobsCleanedUp counts the succeeded Jobs deleted under spec.jobCleanup
	// OnJobSuccess.
	jobsCleanedUp = metrics.NewCounter(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "jobs_cleaned_up_total",
		Help:           "Succeeded Jobs deleted by the execution controller once their success was recorded (spec.jobCleanup OnJobSuccess).",
		StabilityLevel: metrics.ALPHA,
	})

	// jobsLeftOut counts the Jobs the Job informer left out of the cache
	// because their success is stored: each time a list, or a watch's
	// Added event, brings one.
	jobsLeftOut = metrics.NewCounter(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "jobs_left_out_total",
		Help:           "Jobs listed, or added by a watch, that the execution controller left out of its Job cache because the Job's success is in its Execution's stored status (spec.jobCleanup Never).",
		StabilityLevel: metrics.ALPHA,
	})

	// runningJobCache is the Job cache of the controller that runs in this
	// process, if one does (the leader), for cachedJobsCollector.
	runningJobCache atomic.Pointer[jobCache]

	registerMetricsOnce sync.Once
)

// registerMetrics registers the controller's metrics once per process;
// several controllers (after a lost lease, or in tests) share them.
func registerMetrics() {
	registerMetricsOnce.Do(func() {
		legacyregistry.MustRegister(jobsCreated, executionsByPhase, dependencyToStart, permissionChecks, activeJobs, jobsCleanedUp, jobsLeftOut)
		legacyregistry.CustomMustRegister(&cachedJobsCollector{})
	})
}

// cachedJobsDesc describes how many Jobs the running controller keeps a
// record of: what its memory grows with (see evict.go).
var cachedJobsDesc = metrics.NewDesc(metricsNamespace+"_"+metricsSubsystem+"_cached_jobs",
	"Jobs the execution controller keeps in its cache: running, failed, waiting for their deletion under jobCleanup OnJobSuccess, or succeeded with the success not stored in their Execution's status yet. Not reported while no controller runs in this server (another replica leads).",
	nil, nil, metrics.ALPHA, "")

// cachedJobsCollector reports the size of the running controller's Job
// cache when scraped.
type cachedJobsCollector struct {
	metrics.BaseStableCollector
}

func (cachedJobsCollector) DescribeWithStability(ch chan<- *metrics.Desc) { ch <- cachedJobsDesc }

func (cachedJobsCollector) CollectWithStability(ch chan<- metrics.Metric) {
	if jc := runningJobCache.Load(); jc != nil {
		ch <- metrics.NewLazyConstMetric(cachedJobsDesc, metrics.GaugeValue, float64(len(jc.indexer.ListKeys())))
	}
}

// phaseLabel is the label value of a phase; a just-created Execution has
// none yet and counts as Pending.
func phaseLabel(p v1alpha1.ExecutionPhase) string {
	if p == "" {
		return string(v1alpha1.PhasePending)
	}
	return string(p)
}
