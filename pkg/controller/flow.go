package controller

import (
	"sync"

	"k8s.io/client-go/tools/cache"
)

// Defaults of the flow control, measured on the local stack (see
// test/e2e/README.md): kube-controller-manager, the scheduler and the
// nodes complete Jobs at the same rate whether 300 or 5,000 are waiting,
// but the more are waiting the later the first ones finish, and every
// waiting Job costs memory in each of them.
const (
	// DefaultMaxActiveJobsPerExecution bounds the created-but-unfinished
	// Jobs of one Execution.
	DefaultMaxActiveJobsPerExecution = 300
	// DefaultMaxActiveJobs bounds them across all Executions of the server.
	DefaultMaxActiveJobs = 1000
)

// activeLimiter bounds the Jobs created and not finished across all
// Executions, and shares them fairly: while others wait, an Execution gets
// no more than an equal share, so a small Execution created during a huge
// one gets its Jobs as soon as the huge one's next Jobs finish.
//
// Workers report each Execution's active Jobs with set at the start and
// end of every sync, and ask for more with acquire; what an Execution
// holds is what it last reported plus what it acquired since, so nothing
// drifts when a creation fails or a Job finishes.
type activeLimiter struct {
	// limit of active Jobs over all Executions; 0 means no bound.
	limit int
	// wake queues an Execution that waits for a share once Jobs finished.
	wake func(cache.ObjectName)

	mu      sync.Mutex
	total   int
	held    map[cache.ObjectName]int
	waiting map[cache.ObjectName]bool
}

func newActiveLimiter(limit int, wake func(cache.ObjectName)) *activeLimiter {
	return &activeLimiter{limit: limit, wake: wake, held: map[cache.ObjectName]int{}, waiting: map[cache.ObjectName]bool{}}
}

// set records that key has active Jobs; if Jobs finished, the Executions
// waiting for a share are woken.
func (l *activeLimiter) set(key cache.ObjectName, active int) {
	l.mu.Lock()
	freed := l.held[key] > active
	l.total += active - l.held[key]
	if active > 0 {
		l.held[key] = active
	} else {
		delete(l.held, key)
	}
	var wake []cache.ObjectName
	if freed && l.free() > 0 {
		wake = l.waiters()
	}
	activeJobs.Set(float64(l.total))
	l.mu.Unlock()
	l.wakeAll(wake)
}

// acquire returns how many of want more Jobs key may create now, and
// holds them for it. An Execution that gets fewer than it wants waits,
// and is woken when Jobs of any Execution finish.
func (l *activeLimiter) acquire(key cache.ObjectName, want int) int {
	if l.limit <= 0 || want <= 0 {
		return max(want, 0)
	}
	l.mu.Lock()
	allowed := l.free()
	if l.othersWaiting(key) > 0 {
		// An equal share of the bound among the Executions that hold or
		// want Jobs.
		share := max(1, l.limit/l.participants(key))
		allowed = min(allowed, max(0, share-l.held[key]))
	}
	n := min(want, max(allowed, 0))
	l.held[key] += n
	l.total += n
	if l.held[key] == 0 {
		delete(l.held, key)
	}
	if n < want {
		l.waiting[key] = true
	} else {
		delete(l.waiting, key)
	}
	var wake []cache.ObjectName
	if n < want && l.free() > 0 {
		// Held back by its share while slots are free: those below
		// theirs may take them.
		wake = l.waiters()
	}
	activeJobs.Set(float64(l.total))
	l.mu.Unlock()
	l.wakeAll(wake)
	return n
}

// stopWaiting records that key wants no more Jobs for now (it has none
// ready, is suspended or finished).
func (l *activeLimiter) stopWaiting(key cache.ObjectName) {
	l.mu.Lock()
	delete(l.waiting, key)
	l.mu.Unlock()
}

// forget releases everything key holds, e.g. once it is deleted.
func (l *activeLimiter) forget(key cache.ObjectName) {
	l.stopWaiting(key)
	l.set(key, 0)
}

// waits reports whether key waits for a share.
func (l *activeLimiter) waits(key cache.ObjectName) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting[key]
}

func (l *activeLimiter) free() int {
	if l.limit <= 0 {
		return int(^uint(0) >> 1)
	}
	return l.limit - l.total
}

func (l *activeLimiter) othersWaiting(key cache.ObjectName) int {
	n := len(l.waiting)
	if l.waiting[key] {
		n--
	}
	return n
}

// participants counts the Executions that hold or want Jobs, key included.
func (l *activeLimiter) participants(key cache.ObjectName) int {
	n := len(l.held)
	for k := range l.waiting {
		if l.held[k] == 0 {
			n++
		}
	}
	if l.held[key] == 0 && !l.waiting[key] {
		n++
	}
	return n
}

func (l *activeLimiter) waiters() []cache.ObjectName {
	keys := make([]cache.ObjectName, 0, len(l.waiting))
	for k := range l.waiting {
		keys = append(keys, k)
	}
	return keys
}

func (l *activeLimiter) wakeAll(keys []cache.ObjectName) {
	if l.wake == nil {
		return
	}
	for _, k := range keys {
		l.wake(k)
	}
}
