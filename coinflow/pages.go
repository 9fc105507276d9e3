package coinflow

import (
	"context"
	"iter"
	"sync"
)

// pages streams the 1-based pages fetch returns. Coinflow's lists give no
// total and may cap the page size below the limit asked for, so a short
// page ends the stream only when a longer one was seen before; otherwise
// one more page is asked for, and an empty page ends it. The sequence ends
// after the first error, which it yields with a nil page.
//
// Pages are numbered, not chained by a cursor, so page n+1 can be asked for
// before page n has come back. With ahead > 0, once the list has shown
// ahead pages without ending, the next ahead pages beyond the one the
// caller holds are fetched in the background while the caller works. They
// are still yielded in order, and an error on page k still ends the
// sequence right after page k-1, as it would one page at a time. A list
// shorter than that is fetched one page at a time, as with ahead 0, at no
// extra call; a longer one costs at most ahead calls past its end, whose
// answers are dropped. The end of the loop (a break, the end of the list,
// an error) cancels the fetches under way and waits for them, so no
// goroutine outlives it.
func pages[T any](ctx context.Context, ahead int, fetch func(ctx context.Context, page int) ([]T, error)) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		f := newPrefetcher(ctx, fetch)
		defer f.stop()
		longest := 0
		for page := 1; ; page++ {
			ts, err := f.take(page)
			if err != nil {
				yield(nil, err)
				return
			}
			last := len(ts) < longest
			if len(ts) == 0 {
				return
			}
			longest = max(longest, len(ts))
			if ahead > 0 && page >= ahead && !last {
				f.fill(page + ahead)
			}
			if !yield(ts, nil) || last {
				return
			}
		}
	}
}

// prefetcher runs the fetches of pages asked for ahead, one goroutine
// each, and hands their answers back in page order. Used by one
// goroutine, the one that ranges over pages.
type prefetcher[T any] struct {
	ctx    context.Context // the fetches', cancelled by stop
	cancel context.CancelFunc
	fetch  func(ctx context.Context, page int) ([]T, error)
	wg     sync.WaitGroup
	queue  []chan fetched[T] // pages next-len(queue) .. next-1, oldest first
	next   int               // the first page not yet asked for
}

type fetched[T any] struct {
	ts  []T
	err error
}

func newPrefetcher[T any](ctx context.Context, fetch func(ctx context.Context, page int) ([]T, error)) *prefetcher[T] {
	ctx, cancel := context.WithCancel(ctx)
	return &prefetcher[T]{ctx: ctx, cancel: cancel, fetch: fetch, next: 1}
}

// take returns page n, the first page not yet taken: the answer of its
// fetch under way, or, when none is, the answer of fetching it now.
func (f *prefetcher[T]) take(n int) ([]T, error) {
	if len(f.queue) == 0 {
		f.next = n + 1
		return f.fetch(f.ctx, n)
	}
	r := <-f.queue[0]
	f.queue[0] = nil
	f.queue = f.queue[1:]
	return r.ts, r.err
}

// fill starts the fetches of the pages not yet asked for, up to page last.
func (f *prefetcher[T]) fill(last int) {
	for ; f.next <= last; f.next++ {
		ch := make(chan fetched[T], 1) // never blocks the fetch, even when its answer is dropped
		page := f.next
		f.wg.Go(func() {
			ts, err := f.fetch(f.ctx, page)
			ch <- fetched[T]{ts, err}
		})
		f.queue = append(f.queue, ch)
	}
}

// stop cancels the fetches under way and waits for them to return.
func (f *prefetcher[T]) stop() {
	f.cancel()
	f.wg.Wait()
}

// items streams the elements of a stream of pages; an error is yielded
// once, with a zero element, and ends it.
func items[T any](ps iter.Seq2[[]T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for ts, err := range ps {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for i := range ts {
				if !yield(ts[i], nil) {
					return
				}
			}
		}
	}
}
