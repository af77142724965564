// Package controller is the controller embedded in execution-apiserver: it
// runs each Execution as batch/v1 Jobs in dependency order and reports
// their progress in the Execution's compact status.
//
// It follows the shape of client-go work-queue controllers: informers on
// Executions (through the server's loopback client) and on the controller's
// Jobs (in the cluster) feed a rate-limited queue of Execution keys, and
// workers sync one Execution at a time. What an Execution needs between
// syncs (its graph, which jobs were created, succeeded or failed, which are
// ready) is kept in memory and rebuilt from the Jobs and the stored status
// after a restart, so Job events cost O(children) and nothing runs twice.
package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/generated/clientset/versioned"
	executioninformers "kubegene.io/kubegene/pkg/generated/informers/externalversions"
	executionlisters "kubegene.io/kubegene/pkg/generated/listers/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/progress"
)

// Config is what a Controller needs.
type Config struct {
	// KubeClient talks to the cluster, where the Jobs run.
	KubeClient kubernetes.Interface
	// ExecutionClient talks to the server's own API (the loopback client).
	ExecutionClient versioned.Interface
	// Recorder records events on Executions.
	Recorder record.EventRecorder
	// Now returns the current time; time.Now if nil. Tests set it.
	Now func() time.Time
	// StatusInterval is the least time between two status writes of a
	// running Execution that stays in the same phase; DefaultStatusInterval
	// if zero.
	StatusInterval time.Duration
	// PermissionCheckInterval is how long the answer to whether an
	// Execution's creator may still create Jobs is trusted;
	// DefaultPermissionCheckInterval if zero.
	PermissionCheckInterval time.Duration
	// MaxActiveJobsPerExecution bounds the created-but-unfinished Jobs of
	// one Execution (spec.parallelism may bound them lower); MaxActiveJobs
	// bounds them across all Executions, shared fairly. Zero or less means
	// no bound; the server's flags default to DefaultMaxActiveJobs*.
	MaxActiveJobsPerExecution int
	MaxActiveJobs             int
}

// maxRetryDelay bounds the backoff of an Execution whose sync fails, e.g.
// because kube-apiserver refuses its Jobs: once a quota is raised or a
// policy fixed, its Jobs start within this time.
const maxRetryDelay = time.Minute

// DefaultStatusInterval is the default of Config.StatusInterval: kubectl
// shows progress at most a second old.
const DefaultStatusInterval = time.Second

// Controller runs Executions. Create it with New and start it with Run.
type Controller struct {
	kube       kubernetes.Interface
	executions versioned.Interface
	recorder   record.EventRecorder
	now        func() time.Time
	// statusInterval: see Config.StatusInterval.
	statusInterval time.Duration

	executionFactory executioninformers.SharedInformerFactory
	jobFactory       informers.SharedInformerFactory
	executionLister  executionlisters.ExecutionLister
	jobs             jobCache
	// stored tells the Jobs whose success is stored, for the Job
	// informer and evictions.
	stored           *storedSuccesses
	eventFactory     informers.SharedInformerFactory
	executionsSynced cache.InformerSynced
	cachesSynced     []cache.InformerSynced
	permissions      *permissionChecker
	// limiter bounds the active Jobs of all Executions together.
	limiter *activeLimiter
	// maxActivePerExecution: see Config.MaxActiveJobsPerExecution.
	maxActivePerExecution int

	queue workqueue.TypedRateLimitingInterface[cache.ObjectName]

	mu sync.RWMutex
	// states holds the in-memory state of Executions being run, by key.
	states map[cache.ObjectName]*executionState
	// phases is the last phase seen per Execution, for the executions gauge.
	phases map[cache.ObjectName]v1alpha1.ExecutionPhase
}

// New creates a controller and its informers; nothing runs until Run.
func New(cfg Config) (*Controller, error) {
	if cfg.KubeClient == nil || cfg.ExecutionClient == nil || cfg.Recorder == nil {
		return nil, errors.New("execution controller needs a cluster client, an execution client and an event recorder")
	}
	registerMetrics()
	c := &Controller{
		kube:           cfg.KubeClient,
		executions:     cfg.ExecutionClient,
		recorder:       cfg.Recorder,
		now:            cfg.Now,
		statusInterval: cmp.Or(cfg.StatusInterval, DefaultStatusInterval),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedMaxOfRateLimiter(
				workqueue.NewTypedItemExponentialFailureRateLimiter[cache.ObjectName](5*time.Millisecond, maxRetryDelay),
				&workqueue.TypedBucketRateLimiter[cache.ObjectName]{Limiter: rate.NewLimiter(rate.Limit(10), 100)}),
			workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Name: "execution"}),
		states: make(map[cache.ObjectName]*executionState),
		phases: make(map[cache.ObjectName]v1alpha1.ExecutionPhase),
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.limiter = newActiveLimiter(cfg.MaxActiveJobs, func(key cache.ObjectName) { c.queue.Add(key) })
	c.maxActivePerExecution = cfg.MaxActiveJobsPerExecution
	c.permissions = newPermissionChecker(cfg.KubeClient.AuthorizationV1().SubjectAccessReviews(), c.now,
		cmp.Or(cfg.PermissionCheckInterval, DefaultPermissionCheckInterval))

	c.executionFactory = executioninformers.NewSharedInformerFactory(cfg.ExecutionClient, 0)
	executionInformer := c.executionFactory.Execution().V1alpha1().Executions()
	c.executionLister = executionInformer.Lister()
	if _, err := executionInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueueExecution,
		UpdateFunc: func(old, cur any) {
			if old.(*v1alpha1.Execution).ResourceVersion != cur.(*v1alpha1.Execution).ResourceVersion {
				c.enqueueExecution(cur)
			}
		},
		DeleteFunc: c.enqueueExecution,
	}); err != nil {
		return nil, fmt.Errorf("adding execution event handler: %w", err)
	}

	// Only the controller's own Jobs, less those whose success is stored
	// (newJobInformer), and of each only what the controller reads (a
	// cachedJob), to keep the cache small for Executions of many Jobs.
	c.stored = newStoredSuccesses(c.executionLister)
	c.jobFactory = informers.NewSharedInformerFactoryWithOptions(cfg.KubeClient, 0, informers.WithTransform(cacheJob))
	jobInformer := c.jobFactory.InformerFor(&batchv1.Job{}, newJobInformer(c.leavesOut))
	// The Job informer stores cachedJobs, not batchv1.Jobs: it has no
	// lister.
	c.jobs = jobCache{indexer: jobInformer.GetIndexer()}
	if _, err := jobInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if job, ok := asCachedJob(obj); ok {
				c.observeJob(job, false)
			}
		},
		UpdateFunc: func(old, cur any) {
			oldJob, ok1 := asCachedJob(old)
			curJob, ok2 := asCachedJob(cur)
			if ok1 && ok2 && c.jobUpdateMatters(oldJob, curJob) {
				c.observeJob(curJob, false)
			}
		},
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				if tombstone.Obj == nil {
					// A relist found gone a Job evicted meanwhile: its
					// success is stored, there is nothing to tell.
					return
				}
				obj = tombstone.Obj
			}
			if job, ok := asCachedJob(obj); ok {
				c.observeJob(job, true)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("adding job event handler: %w", err)
	}

	// The Job controller reports pods it cannot create (Pod Security, a pod
	// quota) only as FailedCreate events on the Job: watch those, and
	// nothing else, so that the Execution can say why its Jobs do not run.
	c.eventFactory = informers.NewSharedInformerFactoryWithOptions(cfg.KubeClient, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = failedCreateSelector }),
		informers.WithTransform(stripManagedFields))
	eventInformer := c.eventFactory.Core().V1().Events().Informer()
	if _, err := eventInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.observeFailedCreate(obj) },
		UpdateFunc: func(_, cur any) { c.observeFailedCreate(cur) },
	}); err != nil {
		return nil, fmt.Errorf("adding event handler: %w", err)
	}
	c.executionsSynced = executionInformer.Informer().HasSynced
	c.cachesSynced = []cache.InformerSynced{jobInformer.HasSynced, eventInformer.HasSynced}
	return c, nil
}

// failedCreateSelector selects the events of Jobs that could not create a
// pod.
var failedCreateSelector = fields.AndSelectors(
	fields.OneTermEqualSelector("involvedObject.kind", "Job"),
	fields.OneTermEqualSelector("reason", "FailedCreate"),
).String()

func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// Run starts the informers and workers and blocks until ctx is done, then
// stops the workers and informers before returning.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrashWithContext(ctx)
	logger := klog.FromContext(ctx)
	logger.Info("Starting execution controller", "workers", workers)
	defer logger.Info("Stopped execution controller")

	// The Executions first: the Job informer asks their stored statuses
	// which Jobs to leave out as it lists.
	c.executionFactory.Start(ctx.Done())
	defer c.executionFactory.Shutdown()
	defer c.queue.ShutDown()
	defer c.resetPhases()
	if !cache.WaitForNamedCacheSyncWithContext(ctx, c.executionsSynced) {
		return fmt.Errorf("execution controller: execution cache did not sync: %w", ctx.Err())
	}
	c.jobFactory.Start(ctx.Done())
	c.eventFactory.Start(ctx.Done())
	defer c.eventFactory.Shutdown()
	defer c.jobFactory.Shutdown()
	runningJobCache.Store(&c.jobs)
	defer runningJobCache.CompareAndSwap(&c.jobs, nil)
	if !cache.WaitForNamedCacheSyncWithContext(ctx, c.cachesSynced...) {
		return fmt.Errorf("execution controller: caches did not sync: %w", ctx.Err())
	}

	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for c.processNextItem(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) processNextItem(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if ctx.Err() != nil {
		return false // shutting down: leave the rest of the queue
	}
	start := c.now()
	err := c.sync(ctx, key)
	klog.FromContext(ctx).V(4).Info("Synced execution", "execution", key, "duration", c.now().Sub(start))
	if err == nil {
		c.queue.Forget(key)
		return true
	}
	utilruntime.HandleErrorWithContext(ctx, err, "Syncing execution failed; will retry", "execution", key)
	c.queue.AddRateLimited(key)
	return true
}

func (c *Controller) enqueueExecution(obj any) {
	key, err := cache.DeletionHandlingObjectToName(obj)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("getting key of execution: %w", err))
		return
	}
	c.queue.Add(key)
}

// observeJob hands a Job event to its Execution's state, if it is being
// run, and queues the Execution. Without a state, the Execution's next sync
// builds one from the cache, which already holds this event's Job.
func (c *Controller) observeJob(job *cachedJob, deleted bool) {
	key, ok := executionOf(job)
	if !ok {
		return
	}
	o := job.observation(c.now())
	if deleted {
		o.deleted = true
		if o.outcome == jobActive {
			o.outcome = jobGone
		}
	}
	c.mu.RLock()
	s := c.states[key]
	c.mu.RUnlock()
	if s != nil {
		s.observe(o)
	}
	c.queue.Add(key)
}

// leavesOut tells the Job informer which Jobs to leave out of the cache
// as it lists (newJobInformer): those whose success is stored
// (storedSuccesses) and of which the cache holds no record. Starting, or
// relisting after a lost watch, over the 100,000 finished Jobs of an
// Execution under jobCleanup Never then caches none of them, where the
// informer would hold them all until the syncs evicted them. A record the
// cache holds is listed and so kept up to date instead, and leaves by
// eviction (evict.go).
func (c *Controller) leavesOut(job *batchv1.Job) bool {
	if !c.stored.hasJob(job) {
		return false
	}
	if _, cached := c.jobs.get(job.Namespace, job.Name); cached {
		return false
	}
	jobsLeftOut.Inc()
	return true
}

// jobUpdateMatters tells whether a Job's update is worth its Execution's
// attention. Most updates are progress (active, ready pods) that change
// nothing for the Execution; a first pod matters only to an Execution
// waiting for a Job that could not create its pods. A succeeded Job in the
// cache is one whose success may not be stored yet, or one the informer
// stored again over its eviction (its Get and Update are not atomic with
// evictSucceeded, see evict.go), and then old and cur both show the
// success: its Execution looks again, so that the record leaves again.
func (c *Controller) jobUpdateMatters(old, cur *cachedJob) bool {
	return old.outcome != cur.outcome || old.ownerUID() != cur.ownerUID() ||
		cur.outcome == jobSucceeded ||
		!old.hasPods && cur.hasPods && c.waitsForPods(cur)
}

// waitsForPods reports whether job's Execution waits for a Job that could
// not create its pods.
func (c *Controller) waitsForPods(job *cachedJob) bool {
	key, ok := executionOf(job)
	if !ok {
		return false
	}
	c.mu.RLock()
	s := c.states[key]
	c.mu.RUnlock()
	return s != nil && s.waitsForPods()
}

// observeFailedCreate hands the refusal of a pod of one of our running
// Jobs to its Execution's state.
func (c *Controller) observeFailedCreate(obj any) {
	ev, ok := obj.(*corev1.Event)
	if !ok {
		return
	}
	ref := ev.InvolvedObject
	job, ok := c.jobs.get(ref.Namespace, ref.Name)
	if !ok || job.uid != ref.UID || job.hasPods || job.outcome != jobActive {
		return // not ours, gone, finished, or it has pods by now
	}
	key, ok := executionOf(job)
	if !ok {
		return
	}
	c.mu.RLock()
	s := c.states[key]
	c.mu.RUnlock()
	if s != nil {
		o := job.observation(c.now())
		o.podsRefused = ev.Message
		s.observe(o)
	}
	c.queue.Add(key)
}

// sync brings one Execution forward: records observed Job outcomes,
// creates the Jobs that are ready within the parallelism limits, and writes
// the status if it changed.
func (c *Controller) sync(ctx context.Context, key cache.ObjectName) error {
	e, err := c.executionLister.Executions(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		// Deleted: its Jobs are garbage-collected through their owner
		// reference; only our memory of it is left to drop.
		c.forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting execution %s from cache: %w", key, err)
	}
	if deleted, err := c.expireFinished(ctx, key, e); deleted || err != nil {
		return err
	}

	s := c.stateFor(key, e)
	if s == nil {
		// Finished before this controller saw it: nothing left to run.
		c.setPhase(key, e.Status.Phase)
		c.evictFinishedSuccesses(key, e)
		return nil
	}
	if s.gone {
		return nil // the cache has not caught up with its deletion yet
	}
	for _, o := range s.takeInbox() {
		s.apply(o)
	}
	s.suspended = suspended(s.known(e))

	var errs []error
	if left, err := c.enforceDeadline(ctx, e, s); err != nil {
		errs = append(errs, err)
	} else if left > 0 {
		c.queue.AddAfter(key, left)
	}
	if s.retryingCount() > 0 && e.DeletionTimestamp == nil {
		if err := c.deleteRetriedJobs(ctx, e, s); err != nil {
			errs = append(errs, err)
		}
	}
	c.limiter.set(key, s.active)
	if e.DeletionTimestamp == nil && s.startable(e) {
		if err := c.startReadyAsCreator(ctx, key, e, s); err != nil {
			errs = append(errs, err)
		}
		c.limiter.set(key, s.active)
	} else {
		c.limiter.stopWaiting(key)
	}
	c.reportFailures(e, s)

	outcome, err := c.updateStatus(ctx, key, e, s)
	if apierrors.IsNotFound(err) {
		c.retire(key, s)
		return nil
	}
	if err != nil {
		errs = append(errs, err)
	}
	c.evictStoredSuccesses(e.Namespace, s, outcome)
	// After the write: only Jobs whose success is stored are deleted.
	if err := c.cleanUpJobs(ctx, key, e, s); err != nil {
		errs = append(errs, err)
	}

	switch {
	case outcome == statusInCache && terminal(s.phase()) && s.active == 0 && !s.cleanupPending():
		// Nothing will change any more, and the cache shows it (not just
		// our write): free the memory. Later syncs see the terminal status
		// and stop there.
		c.dropState(key, s)
	case len(errs) == 0 && s.startable(e) && s.blocked.create == nil && !c.limiter.waits(key):
		// The per-sync budget held jobs back, or adopted Jobs made more
		// ready: go on after the status has been written. (An Execution
		// waiting for its share of active Jobs is woken when Jobs finish.)
		c.queue.Add(key)
	}
	return utilerrors.NewAggregate(errs)
}

// statusOutcome says where the status the state stands for is after
// updateStatus.
type statusOutcome int

const (
	// statusPending: not stored yet; it waits for the write throttle (the
	// key is queued for then), for the cache to show our last write, or
	// for a retry of a failed write.
	statusPending statusOutcome = iota
	// statusWritten: this sync wrote it; the cache may not show it yet.
	statusWritten
	// statusInCache: the cache shows it, and nothing was written.
	statusInCache
)

// updateStatus writes the status the state stands for if it differs from
// the stored one and the throttle allows, records the Execution's phase for
// the gauge once it is stored, and the terminal event once it is written.
func (c *Controller) updateStatus(ctx context.Context, key cache.ObjectName, e *v1alpha1.Execution, s *executionState) (statusOutcome, error) {
	now := c.now()
	stored := s.known(e)
	status := s.status(stored, now)
	outcome := statusPending
	var err error
	if !statusEqual(&status, &stored.Status) {
		if wait := c.statusWait(s, stored, &status, now); wait > 0 {
			c.queue.AddAfter(key, wait)
		} else if from, to, werr := c.writeStatus(ctx, s, stored, status); werr != nil {
			err = werr
		} else {
			outcome = statusWritten
			status = *to
			c.recordTransition(e, from, to)
		}
	}
	if outcome != statusWritten && statusEqual(&status, &e.Status) {
		outcome = statusInCache
	}
	if outcome != statusPending {
		c.setPhase(key, status.Phase)
	}
	return outcome, err
}

// recordTransition records the events of a status write: a suspension or
// resumption, or the end of the Execution.
func (c *Controller) recordTransition(e *v1alpha1.Execution, from *v1alpha1.ExecutionStatus, to *v1alpha1.ExecutionStatus) {
	was := meta.FindStatusCondition(from.Conditions, v1alpha1.ConditionSuspended)
	if now := meta.FindStatusCondition(to.Conditions, v1alpha1.ConditionSuspended); now != nil && (was == nil || was.Status != now.Status) {
		switch {
		case now.Status == metav1.ConditionTrue:
			c.recorder.Event(executionRef(e), corev1.EventTypeNormal, reasonSuspended, "Suspended: no new job starts until spec.suspend is false")
		case now.Reason == reasonResumed && !terminal(to.Phase):
			c.recorder.Event(executionRef(e), corev1.EventTypeNormal, reasonResumed, "Resumed: new jobs start as their dependencies succeed")
		}
	}
	was = meta.FindStatusCondition(from.Conditions, v1alpha1.ConditionJobsBlocked)
	if now := meta.FindStatusCondition(to.Conditions, v1alpha1.ConditionJobsBlocked); now != nil && (was == nil || was.Status != now.Status || was.Reason != now.Reason) {
		switch now.Status {
		case metav1.ConditionTrue:
			c.recorder.Event(executionRef(e), corev1.EventTypeWarning, now.Reason, now.Message)
		default:
			if !terminal(to.Phase) {
				c.recorder.Event(executionRef(e), corev1.EventTypeNormal, reasonUnblocked, "Jobs and their pods are created again")
			}
		}
	}
	if terminal(from.Phase) {
		return
	}
	switch to.Phase {
	case v1alpha1.PhaseSucceeded:
		c.recorder.Event(executionRef(e), corev1.EventTypeNormal, EventExecutionSucceeded, MessageSucceeded)
	case v1alpha1.PhaseFailed:
		c.recorder.Event(executionRef(e), corev1.EventTypeWarning, EventExecutionFailed, to.Message)
	}
}

// reportFailures records an event for every job failure not reported yet.
func (c *Controller) reportFailures(e *v1alpha1.Execution, s *executionState) {
	for _, f := range s.takeFailures() {
		c.recorder.Eventf(executionRef(e), corev1.EventTypeWarning, EventJobFailed, "Job %s failed: %s", s.graph.JobName(f.task, f.index), f.message)
	}
}

// stateFor returns the in-memory state of e, building it from the Job cache
// and the stored status if there is none (first sight, restart, or a new
// Execution of the same name). It returns nil for an Execution that had
// finished before this controller first saw it.
func (c *Controller) stateFor(key cache.ObjectName, e *v1alpha1.Execution) *executionState {
	c.mu.Lock()
	s := c.states[key]
	if s != nil && s.uid == e.UID && (s.gone || s.attempts == e.Status.Attempts) {
		c.mu.Unlock()
		return s
	}
	retried := s != nil && s.uid == e.UID
	if s == nil && terminal(e.Status.Phase) && !storedUnfinished(e) && !c.succeededJobsLeft(key, e) {
		c.mu.Unlock()
		return nil
	}
	// Published before reading the cache, so that a Job event handled from
	// now on reaches the inbox; events seen twice are recorded once.
	s = newExecutionState(e.UID)
	s.activeCap = c.maxActivePerExecution
	c.states[key] = s
	c.mu.Unlock()

	s.rebuild(e, c.jobs.ofExecution(key))
	if retrying := s.retryingCount(); retried || retrying > 0 {
		c.recorder.Eventf(executionRef(e), corev1.EventTypeNormal, reasonRetried, "Retrying %d failed jobs (attempt %d)", retrying, s.attempt())
	}
	return s
}

// storedUnfinished reports whether the stored status has created jobs that
// have not finished: a terminal Execution whose Jobs still run (a FailFast
// failure, a deadline whose deletions are pending) is followed to the end,
// also after a restart.
func storedUnfinished(e *v1alpha1.Execution) bool {
	for i := range e.Status.Tasks {
		ts := &e.Status.Tasks[i]
		p := progress.ParseTask(ts.Created, ts.Succeeded, ts.Failed)
		if p.Active() > 0 {
			return true
		}
	}
	return false
}

func (c *Controller) dropState(key cache.ObjectName, s *executionState) {
	c.releaseLimits(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.states[key] == s {
		delete(c.states, key)
	}
}

// retire keeps, marked gone, the state of an Execution that a status
// write found deleted (or replaced by a namesake) while the cache still
// shows it: a sync before the cache catches up would otherwise build a
// state from that stale copy, whose stored status may not hold successes
// whose Jobs are evicted already, and take them for Jobs deleted while
// they ran. Its Jobs stop counting against the limits now; the state goes
// when the cache shows the deletion (forget) or the namesake (stateFor).
func (c *Controller) retire(key cache.ObjectName, s *executionState) {
	c.releaseLimits(key)
	s.gone = true
}

// releaseLimits gives back an Execution's share of the active Jobs and its
// cached permission answer.
func (c *Controller) releaseLimits(key cache.ObjectName) {
	c.permissions.forget(key)
	c.limiter.forget(key)
}

// forget drops everything known about a deleted Execution.
func (c *Controller) forget(key cache.ObjectName) {
	c.releaseLimits(key)
	c.stored.forget(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.states, key)
	if p, ok := c.phases[key]; ok {
		executionsByPhase.WithLabelValues(phaseLabel(p)).Dec()
		delete(c.phases, key)
	}
}

// setPhase keeps the executions gauge up to date.
func (c *Controller) setPhase(key cache.ObjectName, p v1alpha1.ExecutionPhase) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.phases[key]
	if ok && phaseLabel(old) == phaseLabel(p) {
		return
	}
	if ok {
		executionsByPhase.WithLabelValues(phaseLabel(old)).Dec()
	}
	executionsByPhase.WithLabelValues(phaseLabel(p)).Inc()
	c.phases[key] = p
}

// resetPhases takes this controller's Executions out of the gauge when it
// stops, e.g. on losing the lease to another replica.
func (c *Controller) resetPhases() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, p := range c.phases {
		executionsByPhase.WithLabelValues(phaseLabel(p)).Dec()
		delete(c.phases, key)
	}
}
