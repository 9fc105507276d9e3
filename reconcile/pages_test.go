package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

func withdraws(refs ...[2]string) []coinflow.Withdraw {
	ws := make([]coinflow.Withdraw, len(refs))
	for i, r := range refs {
		ws[i] = coinflow.Withdraw{Transaction: r[0], IdempotencyKey: r[1]}
	}
	return ws
}

// admitted reports whether admit returned within d.
func admitted(g *pageGate, pg *page, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return g.admit(ctx, pg) == nil
}

func TestPageGateHoldsPagesSharingAWithdraw(t *testing.T) {
	g := newPageGate()
	p1 := newPage(1, withdraws([2]string{"tx-a", "key-a"}, [2]string{"tx-b", ""}))
	require.True(t, admitted(g, p1, time.Second))

	// Nothing shared: admitted at once, while p1 is still in flight.
	p2 := newPage(2, withdraws([2]string{"tx-c", "key-c"}))
	require.True(t, admitted(g, p2, time.Second))

	// Shares tx-b (the list shifted): held until p1 is done.
	p3 := newPage(3, withdraws([2]string{"tx-b", ""}, [2]string{"tx-d", ""}))
	require.False(t, admitted(g, p3, 50*time.Millisecond), "admitted beside the page it shares tx-b with")
	close(p1.done)
	require.True(t, admitted(g, p3, time.Second))

	// Shares only an idempotency key (a withdraw matched by key).
	p4 := newPage(4, withdraws([2]string{"tx-e", "key-c"}))
	require.False(t, admitted(g, p4, 50*time.Millisecond), "admitted beside the page it shares key-c with")
	close(p2.done)
	require.True(t, admitted(g, p4, time.Second))

	// A transaction and a key with the same text are different refs.
	p5 := newPage(5, withdraws([2]string{"key-x", "tx-d"}))
	require.True(t, admitted(g, p5, time.Second))
}

func TestPageGateForgetsFinishedPages(t *testing.T) {
	g := newPageGate()
	for seq := range uint32(1000) {
		pg := newPage(seq, withdraws([2]string{"tx-" + string(rune('a'+seq%26)), ""}, [2]string{"u-" + time.Duration(seq).String(), "k"}))
		require.True(t, admitted(g, pg, time.Second), "page %d", seq)
		close(pg.done)
	}
	g.forget()
	require.Empty(t, g.inflight, "refs of finished pages")
	require.Empty(t, g.order)
}

func TestPageGateForgetsFinishedPagesBehindASlowOne(t *testing.T) {
	g := newPageGate()
	slow := newPage(1, withdraws([2]string{"tx-slow", ""}))
	require.True(t, admitted(g, slow, time.Second))
	for seq := range uint32(100) {
		pg := newPage(seq+2, withdraws([2]string{"tx-" + time.Duration(seq).String(), "k-" + time.Duration(seq).String()}))
		require.True(t, admitted(g, pg, time.Second), "page %d", seq+2)
		close(pg.done)
	}
	g.forget()
	require.Equal(t, []*page{slow}, g.order, "only the page still in flight")
	require.Equal(t, map[string]*page{"t:tx-slow": slow}, g.inflight)

	// The slow page still holds back a later page sharing its withdraw.
	again := newPage(200, withdraws([2]string{"tx-slow", ""}))
	require.False(t, admitted(g, again, 50*time.Millisecond), "admitted beside the page it shares tx-slow with")
	close(slow.done)
	require.True(t, admitted(g, again, time.Second))
}
