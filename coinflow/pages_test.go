package coinflow

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// list is a paged list for pages to stream: n pages of size items, the
// last one short, and hooks to hold or fail a fetch.
type list struct {
	n, size int
	// before runs in the fetch of page p before it answers; an error
	// becomes the page's.
	before func(ctx context.Context, p int) error

	mu      sync.Mutex
	calls   []int // pages fetched, in the order the fetches began
	active  atomic.Int32
	started map[int]chan struct{} // closed as the fetch of a page begins
	ended   map[int]chan struct{} // closed as it returns
}

func newList(n, size int) *list {
	return &list{n: n, size: size, started: map[int]chan struct{}{}, ended: map[int]chan struct{}{}}
}

// signal is the channel of page p in m, made on first use.
func (l *list) signal(m map[int]chan struct{}, p int) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m[p] == nil {
		m[p] = make(chan struct{})
	}
	return m[p]
}

func (l *list) fetch(ctx context.Context, p int) ([]int, error) {
	l.active.Add(1)
	defer l.active.Add(-1)
	l.mu.Lock()
	l.calls = append(l.calls, p)
	l.mu.Unlock()
	close(l.signal(l.started, p))
	defer close(l.signal(l.ended, p))
	if l.before != nil {
		if err := l.before(ctx, p); err != nil {
			return nil, err
		}
	}
	var items []int
	switch {
	case p < l.n:
		items = make([]int, l.size)
	case p == l.n:
		items = make([]int, l.size/2)
	}
	for i := range items {
		items[i] = p
	}
	return items, nil
}

func (l *list) fetched() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.calls...)
}

// await waits for ch, failing the test after a while.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
}

// TestPagesFetchAheadYieldInOrder: once the list has shown ahead pages,
// the next ahead pages are fetched while the caller holds one, never more;
// pages that answer out of order are still yielded in order.
func TestPagesFetchAheadYieldInOrder(t *testing.T) {
	t.Parallel()
	const ahead = 3
	l := newList(20, 10)
	var done atomic.Int64 // the last page the caller finished with
	l.before = func(ctx context.Context, p int) error {
		if p <= ahead {
			assert.EqualValues(t, p-1, done.Load(), "page %d fetched before the caller finished page %d", p, p-1)
		}
		assert.LessOrEqual(t, int64(p), done.Load()+1+ahead, "page %d fetched more than %d pages ahead of page %d", p, ahead, done.Load()+1)
		if p > ahead && p%2 == 0 {
			// An even page answers only after the page behind it.
			select {
			case <-l.signal(l.ended, p+1):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	var got []int
	for ts, err := range pages(t.Context(), ahead, l.fetch) {
		require.NoError(t, err)
		p := ts[0]
		got = append(got, p)
		if p >= ahead && p < l.n {
			await(t, l.signal(l.started, p+ahead), "fetch ahead while the caller holds a page")
		}
		done.Store(int64(p))
	}
	want := make([]int, l.n)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, got)
	require.Zero(t, l.active.Load(), "fetches still running after the loop")
	calls := l.fetched()
	require.Equal(t, want[:ahead], calls[:ahead], "the first pages one at a time")
	require.LessOrEqual(t, len(calls), l.n+ahead, "at most ahead pages fetched past the end")
}

// TestPagesFetchAShortListPageByPage: a list no longer than ahead pages
// costs the calls it costs one page at a time, in the same order.
func TestPagesFetchAShortListPageByPage(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3, 4} {
		one, ahead := newList(n, 10), newList(n, 10)
		for _, err := range pages(t.Context(), 0, one.fetch) {
			require.NoError(t, err)
		}
		seen := 0
		for _, err := range pages(t.Context(), 4, ahead.fetch) {
			require.NoError(t, err)
			seen++
		}
		require.Equal(t, n, seen)
		require.Equal(t, one.fetched(), ahead.fetched(), "n=%d", n)
	}
}

// TestPagesErrorEndsTheStreamInOrder: page k fails while later pages are
// in flight (one failing sooner, the rest held): the caller gets pages
// before k, then page k's error, and the loop returns only once every
// fetch has.
func TestPagesErrorEndsTheStreamInOrder(t *testing.T) {
	t.Parallel()
	const ahead, k = 4, 9
	errK, errLater := errors.New("page k failed"), errors.New("a later page failed")
	l := newList(30, 10)
	l.before = func(ctx context.Context, p int) error {
		switch {
		case p == k+1:
			return errLater
		case p == k:
			<-l.signal(l.ended, k+1) // started with page k, by the same fill
			return errK
		case p > k:
			<-ctx.Done() // in flight until the stream ends
			return ctx.Err()
		}
		return nil
	}
	var got []int
	var errs []error
	for ts, err := range pages(t.Context(), ahead, l.fetch) {
		if err != nil {
			require.Nil(t, ts)
			errs = append(errs, err)
			continue
		}
		require.Empty(t, errs, "a page after the error")
		got = append(got, ts[0])
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8}, got)
	require.Equal(t, []error{errK}, errs)
	require.Zero(t, l.active.Load(), "fetches still running after the loop")
	require.Contains(t, l.fetched(), k+ahead-1, "later pages were in flight")
}

// TestPagesCancelledStopsTheFetches: the caller's context ending, or the
// caller breaking out of the loop, stops the fetches in flight; none
// outlives the loop. Not parallel, so that no other test's goroutines come
// and go during the count.
func TestPagesCancelledStopsTheFetches(t *testing.T) {
	const ahead = 4
	hold := func(l *list) {
		l.before = func(ctx context.Context, p int) error {
			if p > 6 {
				<-ctx.Done() // answers only once cancelled
				return ctx.Err()
			}
			return nil
		}
	}
	before := runtime.NumGoroutine()

	l := newList(100, 10)
	hold(l)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []int
	var errs []error
	for ts, err := range pages(ctx, ahead, l.fetch) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, ts[0])
		if ts[0] == 6 {
			await(t, l.signal(l.started, 6+ahead), "fetches ahead")
			cancel()
		}
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6}, got)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], context.Canceled)
	require.Zero(t, l.active.Load(), "fetches still running after the loop")

	l = newList(100, 10)
	hold(l)
	for ts, err := range pages(t.Context(), ahead, l.fetch) {
		require.NoError(t, err)
		if ts[0] == 6 {
			await(t, l.signal(l.started, 6+ahead), "fetches ahead")
			break
		}
	}
	require.Zero(t, l.active.Load(), "fetches still running after the break")
	// A fetch's goroutine ends just after the loop's wait for it is over:
	// give it the CPU (require.Eventually would count its own goroutine).
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind")
}
