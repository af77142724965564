package controller

import "sync"

// slowStart sizes the batches of concurrent requests an Execution sends
// (creations, deletions), as the Job controller does for pods: the first
// batch is one request and each batch that worked doubles the next, up to
// a bound, so that a systematic error (a quota, RBAC, a webhook) costs one
// request, not hundreds. The size reached is kept between syncs: once
// requests work, what one completion makes ready goes out together.
type slowStart struct {
	size int
}

// next is the size of the next batch, within limit.
func (b *slowStart) next(limit int) int { return min(max(b.size, 1), limit) }

// worked doubles the next batch, up to limit.
func (b *slowStart) worked(limit int) { b.size = min(2*max(b.size, 1), limit) }

// failed starts over with a batch of one.
func (b *slowStart) failed() { b.size = 1 }

// concurrently calls call(k) for k in [0, n) in parallel and waits for all.
func concurrently(n int, call func(k int)) {
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() { call(k) })
	}
	wg.Wait()
}
