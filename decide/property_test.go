package decide_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// memory persists decisions the way models.Store.PayoutWrite does, for one
// payout, so that the property tests run thousands of orders in
// milliseconds. The store's own tests hold PayoutWrite to this.
type memory struct {
	p    *models.Payout
	open map[findingKey]bool
}

func newMemory() *memory {
	return &memory{
		p: &models.Payout{
			ID: "p-1", IdempotencyKey: sp("key-1"), UserID: "u-1", Amount: usd(25_000), RequestedSpeed: sp("asap"),
			Status: models.StatusRequested, StatusAt: t0, Source: models.OriginAPI, CreatedAt: t0,
		},
		open: map[findingKey]bool{},
	}
}

func (m *memory) apply(t *testing.T, ev decide.Withdrawal) decide.Decision {
	t.Helper()
	var c models.PayoutCandidates
	if m.p.CoinflowTransaction != nil && *m.p.CoinflowTransaction == ev.Transaction {
		c.ByTransaction = m.p
	}
	if m.p.IdempotencyKey != nil && *m.p.IdempotencyKey == ev.IdempotencyKey {
		c.ByKey = m.p
	}
	d, err := decide.Payout(c, ev, func() string { return "p-other" })
	require.NoError(t, err)
	require.False(t, d.Discovered, "every piece of evidence is about the one payout")
	next := *d.Write.New
	m.p = &next
	for _, f := range d.Write.Raise {
		m.open[findingKey{Kind: f.Kind, Subject: f.Subject}] = true
	}
	for _, k := range d.Write.Resolve {
		delete(m.open, k)
	}
	return d
}

// run is a complete reconciliation run that sees Coinflow's current
// record: the decision, then the run's resolution of the payout's
// findings it did not raise again (reconcile.resolveSeen).
func (m *memory) run(t *testing.T, truth decide.Withdrawal) {
	t.Helper()
	d := m.apply(t, truth)
	raised := map[findingKey]bool{}
	for _, f := range d.Write.Raise {
		raised[findingKey{Kind: f.Kind, Subject: f.Subject}] = true
	}
	for k := range m.open {
		if k.Subject == m.p.ID && !raised[k] {
			delete(m.open, k)
		}
	}
}

// state is what the property compares: the record as finance sees it and
// the open findings.
func (m *memory) state() string {
	p := m.p
	deref := func(s *string) string {
		if s == nil {
			return "-"
		}
		return *s
	}
	open := slices.Collect(maps.Keys(m.open))
	slices.SortFunc(open, func(a, b findingKey) int {
		return compareStrings(string(a.Kind)+a.Subject, string(b.Kind)+b.Subject)
	})
	return fmt.Sprintf("status=%s/%s@%s tx=%s amount=%s fees=%s/%s speed=%s return=%s open=%v",
		p.Status, deref(p.StatusDetail), p.StatusAt.Format(time.RFC3339Nano), deref(p.CoinflowTransaction), p.Amount,
		p.UserFees, p.MerchantFees, deref(p.EffectiveSpeed), deref(p.ReturnStatus), open)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// history is one true story of a payout at Coinflow, and everything any
// source said of it along the way.
type history struct {
	evidence []decide.Withdrawal // in no particular order
	truth    decide.Withdrawal   // Coinflow's record at the end
}

// story draws a payout's life: accepted, pending, perhaps on hold, then
// completed or failed, perhaps failed again after success (a return), each
// change told by a webhook and seen by some reconciliation pages.
func story(r *rand.Rand, withRecords bool) history {
	type change struct {
		status models.PayoutStatus
		detail string
		at     time.Time
		ret    string
	}
	at := t0.Add(time.Second)
	changes := []change{{status: models.StatusPending, at: at}}
	next := func() time.Time { at = at.Add(time.Duration(1+r.IntN(600)) * time.Second); return at }
	if r.IntN(3) == 0 {
		changes = append(changes, change{status: models.StatusInReview, detail: models.DetailOnHold, at: next()})
	}
	final := models.StatusCompleted
	if r.IntN(3) == 0 {
		final = models.StatusFailed
	}
	changes = append(changes, change{status: final, at: next()})
	if final == models.StatusCompleted && r.IntN(2) == 0 {
		changes = append(changes, change{status: models.StatusFailed, at: next(), ret: "return_pending"})
	}
	var h history
	h.evidence = append(h.evidence, decide.Withdrawal{
		Source: models.SourceAPI, IdempotencyKey: "key-1", Transaction: "tx-1", Status: models.StatusPending, At: t0,
		EffectiveSpeed: "asap", MerchantFees: usd(250), UserFees: usd(0),
	})
	sighting := func(c change) decide.Withdrawal {
		w := record(c.status, c.at)
		w.ReturnStatus = c.ret
		if c.status == models.StatusInReview {
			w.CoinflowStatus = "in_review"
		}
		return w
	}
	for i, c := range changes {
		w := webhook(c.status, c.at)
		w.Detail = c.detail
		w.InboxEventID = id(int64(100 + i))
		h.evidence = append(h.evidence, w)
		if withRecords && r.IntN(2) == 0 {
			h.evidence = append(h.evidence, sighting(c))
		}
	}
	h.truth = sighting(changes[len(changes)-1])
	// Duplicates: a retried webhook, a page seen twice.
	for range r.IntN(4) {
		h.evidence = append(h.evidence, h.evidence[r.IntN(len(h.evidence))])
	}
	return h
}

// requireSameEnd draws 200 stories and applies each one's evidence in 20
// random orders; after finish, every order must leave the same state.
func requireSameEnd(t *testing.T, r *rand.Rand, withRecords bool, finish func(m *memory, h history)) {
	t.Helper()
	for n := range 200 {
		h := story(r, withRecords)
		var want string
		for range 20 {
			m := newMemory()
			for _, i := range r.Perm(len(h.evidence)) {
				m.apply(t, h.evidence[i])
			}
			finish(m, h)
			got := m.state()
			if want == "" {
				want = got
				require.Equal(t, h.truth.Status, m.p.Status, "story %d ends as Coinflow's record does", n)
			}
			require.Equal(t, want, got, "story %d", n)
		}
	}
}

// TestAnyOrderOfWebhooksAndPayAnswersEndsTheSame: the webhooks and the pay
// answer of one payout, in any order and with duplicates, leave the same
// record and the same open findings, with no reconciliation at all.
func TestAnyOrderOfWebhooksAndPayAnswersEndsTheSame(t *testing.T) {
	t.Parallel()
	requireSameEnd(t, rand.New(rand.NewPCG(1, 2)), false, func(*memory, history) {})
}

// TestAnyOrderFromAnyMixOfSourcesEndsTheSame: webhooks, the pay answer and
// reconciliation pages, in any order and with duplicates, then one complete
// run that sees Coinflow's current record, leave the same record and the
// same open findings. (A page older than a webhook may raise a local_ahead
// finding on the way; the next complete run that sees Coinflow agree
// resolves it, as reconciliation does.) A return keeps its terminal
// finding open whatever the order.
func TestAnyOrderFromAnyMixOfSourcesEndsTheSame(t *testing.T) {
	t.Parallel()
	requireSameEnd(t, rand.New(rand.NewPCG(3, 4)), true, func(m *memory, h history) {
		m.run(t, h.truth)
		if h.truth.ReturnStatus != "" {
			require.True(t, m.open[findingKey{Kind: models.KindStatusMismatch, Subject: decide.TerminalSubject("p-1")}],
				"a return keeps its terminal finding open: %s", m.state())
		}
	})
}
