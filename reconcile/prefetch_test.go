package reconcile_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

// pageFault answers every request for one page of the withdraws list with
// a 502 once armed, but only after the page after it has been asked for:
// the fault then lands while later pages are being fetched ahead.
type pageFault struct {
	mu       sync.Mutex
	page     string         // the faulty page; "" until armed
	next     string         // the page after it
	asked    map[string]int // list pages asked for while armed, by number
	nextSeen chan struct{}  // closed when next is asked for
}

func (f *pageFault) arm(page int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.page, f.next = strconv.Itoa(page), strconv.Itoa(page+1)
	f.asked, f.nextSeen = map[string]int{}, make(chan struct{})
}

// disarm lets every request through again (each runs its bodies one
// after the other, on one pageFault).
func (f *pageFault) disarm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.page = ""
}

func (f *pageFault) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	page, nextSeen := f.page, f.nextSeen
	p := r.URL.Query().Get("page")
	list := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/merchant/withdraws")
	if list && page != "" {
		f.asked[p]++
		if f.asked[p] == 1 && p == f.next {
			close(nextSeen)
		}
	}
	f.mu.Unlock()
	if !list || p != page {
		return http.DefaultTransport.RoundTrip(r)
	}
	select {
	case <-nextSeen:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return &http.Response{
		StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"msg":"bad gateway"}`)), Request: r,
	}, nil
}

func (f *pageFault) askedFor() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.asked {
		out[k] = v
	}
	return out
}

// TestPageFailingWhilePagesAreFetchedAheadMakesTheRunPartial: page 5 of
// ten fails (after its retries) while page 6 is fetched ahead. The run
// compares pages 1-4 only, ends partial, resolves nothing and raises
// nothing a complete run would have had to prove, and asks for no page
// past 4+PagesAhead.
func TestPageFailingWhilePagesAreFetchedAheadMakesTheRunPartial(t *testing.T) {
	t.Parallel()
	fault := &pageFault{}
	opts := options{
		cfg:    reconcile.Config{PageSize: 2, PageWorkers: 2, PagesAhead: 2},
		client: coinflow.Config{HTTPClient: &http.Client{Transport: fault}, MaxAttempts: 2},
	}
	each(t, opts, func(t *testing.T, b *bundle) {
		b.emu.SeedSynthetic(20, nil) // ten pages, created before the clock's start
		ghost := b.createPayout(t, models.Payout{Amount: usd(500), Status: models.StatusPending, CoinflowTransaction: ptr("ghost-1")})
		b.tick(31 * time.Minute)
		first := b.runOK(t)
		require.Equal(t, int64(20), counts(t, first)["withdraws_seen"])
		var fs []models.Finding
		require.NoError(t, b.store.DB().WithContext(t.Context()).Where("resolved_at IS NULL").Find(&fs).Error)
		var open []key
		for _, f := range fs {
			open = append(open, key{f.Kind, f.Subject, f.Severity})
		}
		require.Contains(t, open, key{models.KindMissingAtCoinflow, ghost.ID, models.SeverityError})

		// A complete run would now resolve the ghost's finding.
		_, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
			UserID: userOK, AmountCents: 500, Speed: "standard", Transaction: "ghost-1", NoWebhooks: true, NoDebit: true,
		})
		require.NoError(t, err)
		b.tick(time.Minute)

		fault.arm(5)
		t.Cleanup(fault.disarm)
		run := b.run(t)
		require.Equal(t, models.RunPartial, run.Outcome)
		require.Len(t, run.Problems, 1, "problems: %v", run.Problems)
		require.Contains(t, run.Problems["payouts"], "list withdraws")
		require.Equal(t, int64(8), counts(t, run)["withdraws_seen"], "pages 1-4")
		b.requireOpen(t, open...)

		asked := fault.askedFor()
		require.Equal(t, 2, asked["5"], "page 5 twice (MaxAttempts)")
		require.Equal(t, 1, asked["6"], "page 6 fetched ahead")
		for _, p := range []string{"7", "8", "9"} {
			require.Zero(t, asked[p], "page %s: more than PagesAhead pages ahead of page 4", p)
		}
	})
}
