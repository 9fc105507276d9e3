package reconcile

import (
	"context"

	"github.com/payoutd/payoutd/coinflow"
)

// page is one page of withdraws: its place in the stream, the payouts it
// may touch, and a signal that its comparison is over.
type page struct {
	seq  uint32
	ws   []coinflow.Withdraw
	refs []string      // "t:"+transaction and "k:"+idempotency key of each withdraw
	done chan struct{} // closed when the page has been compared, or given up on
}

func newPage(seq uint32, ws []coinflow.Withdraw) *page {
	pg := &page{seq: seq, ws: ws, refs: make([]string, 0, 2*len(ws)), done: make(chan struct{})}
	for i := range ws {
		pg.refs = append(pg.refs, "t:"+ws[i].Transaction)
		if ws[i].IdempotencyKey != "" {
			pg.refs = append(pg.refs, "k:"+ws[i].IdempotencyKey)
		}
	}
	return pg
}

func (pg *page) finished() bool {
	select {
	case <-pg.done:
		return true
	default:
		return false
	}
}

// pageGate keeps pages that share a withdraw in stream order. Pages are
// compared concurrently, but when the list shifts under the stream one
// withdraw is on two pages, and the later page shows it as it stood later:
// it must be compared after the earlier page has committed, never beside
// it, or the earlier page's older evidence and fields could land over the
// later page's (or make a false local-ahead finding of a payout the later
// page just healed). A withdraw reaches a payout by its transaction or its
// idempotency key only, so pages that share neither touch different
// payouts. Used by the one goroutine that reads the stream.
type pageGate struct {
	inflight map[string]*page // ref -> the latest admitted page holding it
	order    []*page          // admitted pages not yet forgotten, in stream order
}

func newPageGate() *pageGate { return &pageGate{inflight: map[string]*page{}} }

// admit waits until every earlier page sharing a withdraw with pg is done,
// then records pg as in flight. It fails only when ctx ends.
func (g *pageGate) admit(ctx context.Context, pg *page) error {
	g.forget()
	for _, ref := range pg.refs {
		if prev := g.inflight[ref]; prev != nil {
			select {
			case <-prev.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	for _, ref := range pg.refs {
		g.inflight[ref] = pg
	}
	g.order = append(g.order, pg)
	return nil
}

// forget drops the pages that are done, wherever they stand, so the gate
// holds no more pages than are in flight, even behind a slow one. A done
// page's refs wait for nothing: an older page sharing one was done before
// this one was admitted.
func (g *pageGate) forget() {
	kept := g.order[:0]
	for _, pg := range g.order {
		if !pg.finished() {
			kept = append(kept, pg)
			continue
		}
		for _, ref := range pg.refs {
			if g.inflight[ref] == pg {
				delete(g.inflight, ref)
			}
		}
	}
	clear(g.order[len(kept):])
	g.order = kept
}
