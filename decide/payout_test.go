package decide_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

var t0 = time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)

func usd(c int64) models.Money { return models.Money{Cents: c, Currency: "USD"} }
func sp(s string) *string      { return &s }
func id(n int64) *int64        { return &n }

// ours is a payout initiated through payoutd and accepted by Coinflow.
func ours(status models.PayoutStatus, at time.Time) *models.Payout {
	return &models.Payout{
		ID: "p-1", IdempotencyKey: sp("key-1"), UserID: "u-1", Amount: usd(25_000), RequestedSpeed: sp("asap"),
		EffectiveSpeed: sp("asap"), Status: status, StatusAt: at, CoinflowTransaction: sp("tx-1"), CoinflowTransferID: sp("tr-1"),
		MerchantFees: usd(250), UserFees: usd(0), Source: models.OriginAPI, CreatedAt: t0, UpdatedAt: at,
	}
}

func webhook(status models.PayoutStatus, at time.Time) decide.Withdrawal {
	return decide.Withdrawal{
		Source: models.SourceWebhook, InboxEventID: id(7), Transaction: "tx-1", IdempotencyKey: "key-1", UserID: "u-1",
		Status: status, At: at, Amount: usd(25_250), UserFees: usd(0), MerchantFees: usd(250),
	}
}

func record(status models.PayoutStatus, at time.Time) decide.Withdrawal {
	return decide.Withdrawal{
		Source: models.SourceReconcile, Transaction: "tx-1", IdempotencyKey: "key-1", UserID: "u-1",
		Status: status, CoinflowStatus: string(status), At: at, CreatedAt: t0, Amount: usd(25_000),
		UserFees: usd(0), MerchantFees: usd(250), EffectiveSpeed: "asap", TransferID: "tr-1",
	}
}

type findingKey = models.FindingKey

// requireKeyReused: the withdrawal reusing p-1's key is a payout of its
// own, without the key, raised as missing_locally (error).
func requireKeyReused(t *testing.T, d decide.Decision) {
	t.Helper()
	require.Nil(t, d.Write.New.IdempotencyKey, "the key stays with the payout that holds it")
	require.Equal(t, models.SeverityError, d.Write.Raise[0].Severity)
	require.Equal(t, decide.FindingKeyReused, d.Write.Raise[0].Details["reason"])
	require.Equal(t, "p-1", d.Write.Raise[0].Details["idempotency_key_payout_id"])
}

func keys(fs []models.Finding) []findingKey {
	out := []findingKey{}
	for _, f := range fs {
		out = append(out, findingKey{Kind: f.Kind, Subject: f.Subject})
	}
	return out
}

// TestPayoutDecisions holds every case the applier, the reconciler and
// initiation decided before they shared this function, and the cases where
// they disagreed, now decided once.
func TestPayoutDecisions(t *testing.T) {
	t.Parallel()
	known := func(p *models.Payout) models.PayoutCandidates {
		return models.PayoutCandidates{ByTransaction: p, ByKey: p}
	}
	type want struct {
		err        error
		discovered bool
		healed     bool
		status     models.PayoutStatus
		history    []string // reason of each row, "applied:" prefixed when applied
		ifOpened   bool
		raise      []findingKey
		check      func(t *testing.T, d decide.Decision)
	}
	for _, tc := range []struct {
		name string
		c    models.PayoutCandidates
		ev   decide.Withdrawal
		want want
	}{
		{
			name: "webhook discovers a withdrawal payoutd does not know",
			ev:   webhook(models.StatusPending, t0),
			want: want{discovered: true, status: models.StatusPending, history: []string{"applied:created"}, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) {
					p := d.Write.New
					require.Nil(t, d.Write.Old)
					require.Equal(t, "new-id", p.ID)
					require.Equal(t, models.OriginDiscovered, p.Source)
					require.Equal(t, "key-1", *p.IdempotencyKey)
					require.Equal(t, usd(25_250), p.Amount, "a webhook's total until Coinflow's record says otherwise")
					require.Equal(t, usd(250), p.MerchantFees)
					require.Equal(t, int64(7), *d.Write.History[0].InboxEventID)
				}},
		},
		{
			name: "record discovers a withdrawal: missing_locally",
			ev:   record(models.StatusPending, t0.Add(time.Minute)),
			want: want{discovered: true, status: models.StatusPending, history: []string{"applied:created"},
				raise: []findingKey{{Kind: models.KindMissingLocally, Subject: "tx-1"}},
				check: func(t *testing.T, d decide.Decision) {
					require.True(t, t0.Equal(d.Write.New.CreatedAt), "when the money left, not when payoutd learned of it")
					require.Equal(t, "tr-1", *d.Write.New.CoinflowTransferID)
					require.Equal(t, models.SeverityWarning, d.Write.Raise[0].Severity)
					require.Equal(t, models.Details{"transaction": "tx-1", "amount": usd(25_000), "status": "pending", "speed": "asap"}, d.Write.Raise[0].Details)
				}},
		},
		{
			name: "a status this version does not know discovers a pending payout",
			ev:   func() decide.Withdrawal { w := record("", t0); w.CoinflowStatus = "queued"; return w }(),
			want: want{discovered: true, status: models.StatusPending, history: []string{"applied:created"},
				raise: []findingKey{{Kind: models.KindMissingLocally, Subject: "tx-1"}}},
		},
		{
			name: "webhook advances and brings its fees",
			c:    known(ours(models.StatusPending, t0)),
			ev: func() decide.Withdrawal {
				w := webhook(models.StatusCompleted, t0.Add(time.Minute))
				w.UserFees = usd(3)
				return w
			}(),
			want: want{healed: true, status: models.StatusCompleted, history: []string{"applied:advanced"}, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) {
					require.Equal(t, usd(3), d.Write.New.UserFees)
					require.Equal(t, models.Changes{"user_fees_cents": {int64(0), int64(3)}}, d.Write.History[0].Changes)
				}},
		},
		{
			name: "late older webhook is recorded, not applied, and its fees are not written",
			c:    known(ours(models.StatusCompleted, t0.Add(time.Minute))),
			ev:   func() decide.Withdrawal { w := webhook(models.StatusPending, t0); w.UserFees = usd(9); return w }(),
			want: want{status: models.StatusCompleted, history: []string{"stale"}, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) { require.Equal(t, usd(0), d.Write.New.UserFees) }},
		},
		{
			name: "webhook saying what is known",
			c:    known(ours(models.StatusPending, t0)),
			ev:   webhook(models.StatusPending, t0),
			want: want{status: models.StatusPending, history: []string{"same"}, raise: []findingKey{}},
		},
		{
			name: "newer failure after success by webhook: applied, terminal finding",
			c:    known(ours(models.StatusCompleted, t0)),
			ev:   webhook(models.StatusFailed, t0.Add(time.Hour)),
			want: want{healed: true, status: models.StatusFailed, history: []string{"applied:terminal_changed"},
				raise: []findingKey{{Kind: models.KindStatusMismatch, Subject: "terminal:p-1"}}},
		},
		{
			name: "older success after failure by webhook: not applied, the same terminal finding",
			c:    known(ours(models.StatusFailed, t0.Add(time.Hour))),
			ev:   webhook(models.StatusCompleted, t0),
			want: want{status: models.StatusFailed, history: []string{"stale"},
				raise: []findingKey{{Kind: models.KindStatusMismatch, Subject: "terminal:p-1"}}},
		},
		{
			name: "older failure in Coinflow's record against a newer local success: the same terminal finding",
			c:    known(ours(models.StatusCompleted, t0.Add(time.Hour))),
			ev:   record(models.StatusFailed, t0),
			want: want{status: models.StatusCompleted, history: []string{"stale"}, ifOpened: true,
				raise: []findingKey{{Kind: models.KindStatusMismatch, Subject: "terminal:p-1"}},
				check: func(t *testing.T, d decide.Decision) {
					require.Equal(t, models.Details{
						"reason": decide.FindingTerminalChanged, "source": models.SourceReconcile,
						"status": models.StatusCompleted, "coinflow_status": "failed",
					}, d.Write.Raise[0].Details)
				}},
		},
		{
			name: "newer failure in Coinflow's record: healed, terminal finding",
			c:    known(ours(models.StatusCompleted, t0)),
			ev: func() decide.Withdrawal {
				w := record(models.StatusFailed, t0.Add(time.Hour))
				w.ReturnStatus = "return_pending"
				return w
			}(),
			want: want{healed: true, status: models.StatusFailed, history: []string{"applied:terminal_changed"},
				raise: []findingKey{{Kind: models.KindStatusMismatch, Subject: "terminal:p-1"}},
				check: func(t *testing.T, d decide.Decision) {
					require.Equal(t, "return_pending", *d.Write.New.ReturnStatus)
					require.Contains(t, d.Write.History[0].Changes, "return_status")
				}},
		},
		{
			name: "Coinflow's record behind payoutd's: local_ahead, history once",
			c:    known(ours(models.StatusCompleted, t0.Add(time.Minute))),
			ev:   record(models.StatusPending, t0),
			want: want{status: models.StatusCompleted, history: []string{"stale"}, ifOpened: true,
				raise: []findingKey{{Kind: models.KindStatusMismatch, Subject: "p-1"}}},
		},
		{
			name: "Coinflow's record agrees: nothing written",
			c:    known(ours(models.StatusPending, t0)),
			ev:   record(models.StatusPending, t0),
			want: want{status: models.StatusPending, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) {
					require.Empty(t, models.PayoutColumnsChanged(d.Write.Old, d.Write.New))
				}},
		},
		{
			name: "Coinflow's record ahead: healed",
			c:    known(ours(models.StatusPending, t0)),
			ev:   record(models.StatusCompleted, t0.Add(time.Minute)),
			want: want{healed: true, status: models.StatusCompleted, history: []string{"applied:advanced"}, raise: []findingKey{}},
		},
		{
			name: "another amount in Coinflow's record for payoutd's own payout: raised, not overwritten",
			c:    known(ours(models.StatusPending, t0)),
			ev:   func() decide.Withdrawal { w := record(models.StatusPending, t0); w.Amount = usd(24_000); return w }(),
			want: want{status: models.StatusPending, raise: []findingKey{{Kind: models.KindAmountMismatch, Subject: "p-1"}},
				check: func(t *testing.T, d decide.Decision) { require.Equal(t, usd(25_000), d.Write.New.Amount) }},
		},
		{
			name: "a discovered payout takes the record's amount, with a history row",
			c: func() models.PayoutCandidates {
				p := ours(models.StatusPending, t0)
				p.Source, p.Amount, p.IdempotencyKey = models.OriginDiscovered, usd(25_250), nil
				return models.PayoutCandidates{ByTransaction: p}
			}(),
			ev: record(models.StatusPending, t0),
			want: want{status: models.StatusPending, history: []string{"applied:fields_changed"},
				raise: []findingKey{{Kind: models.KindMissingLocally, Subject: "tx-1"}},
				check: func(t *testing.T, d decide.Decision) {
					require.Equal(t, usd(25_000), d.Write.New.Amount)
					require.Equal(t, [2]any{int64(25_250), int64(25_000)}, d.Write.History[0].Changes["amount_cents"])
				}},
		},
		{
			name: "a status this version does not know moves fields only",
			c:    known(ours(models.StatusPending, t0)),
			ev: func() decide.Withdrawal {
				w := record("", t0.Add(time.Minute))
				w.EffectiveSpeed = "standard"
				return w
			}(),
			want: want{status: models.StatusPending, history: []string{"applied:fields_changed"}, raise: []findingKey{}},
		},
		{
			name: "webhook matched by key records the transaction",
			c: func() models.PayoutCandidates {
				p := ours(models.StatusUnknown, t0)
				p.CoinflowTransaction = nil
				return models.PayoutCandidates{ByKey: p}
			}(),
			ev: webhook(models.StatusPending, t0.Add(time.Second)),
			want: want{healed: true, status: models.StatusPending, history: []string{"applied:advanced"}, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) { require.Equal(t, "tx-1", *d.Write.New.CoinflowTransaction) }},
		},
		{
			name: "webhook reusing another payout's key: its own payout, missing_locally error",
			c:    models.PayoutCandidates{ByKey: ours(models.StatusPending, t0)},
			ev:   func() decide.Withdrawal { w := webhook(models.StatusPending, t0); w.Transaction = "tx-2"; return w }(),
			want: want{discovered: true, status: models.StatusPending, history: []string{"applied:created"},
				raise: []findingKey{{Kind: models.KindMissingLocally, Subject: "tx-2"}},
				check: requireKeyReused},
		},
		{
			name: "record reusing another payout's key: the same finding",
			c:    models.PayoutCandidates{ByKey: ours(models.StatusPending, t0)},
			ev:   func() decide.Withdrawal { w := record(models.StatusPending, t0); w.Transaction = "tx-2"; return w }(),
			want: want{discovered: true, status: models.StatusPending, history: []string{"applied:created"},
				raise: []findingKey{{Kind: models.KindMissingLocally, Subject: "tx-2"}},
				check: requireKeyReused},
		},
		{
			name: "pay answer: pending with what Coinflow answered",
			c: func() models.PayoutCandidates {
				p := ours(models.StatusRequested, t0)
				p.CoinflowTransaction, p.EffectiveSpeed, p.MerchantFees = nil, nil, models.Money{}
				return models.PayoutCandidates{ByKey: p}
			}(),
			ev: decide.Withdrawal{Source: models.SourceAPI, IdempotencyKey: "key-1", Transaction: "tx-1", Status: models.StatusPending,
				At: t0.Add(time.Second), EffectiveSpeed: "asap", MerchantFees: usd(250)},
			want: want{healed: true, status: models.StatusPending, history: []string{"applied:advanced"}, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) {
					require.Equal(t, "tx-1", *d.Write.New.CoinflowTransaction)
					require.Len(t, d.Write.History[0].Changes, 4, "transaction, speed, fee cents and currency")
				}},
		},
		{
			name: "pay refused: failed with its detail",
			c:    models.PayoutCandidates{ByKey: ours(models.StatusRequested, t0)},
			ev:   decide.Withdrawal{Source: models.SourceAPI, IdempotencyKey: "key-1", Status: models.StatusFailed, Detail: "insufficient_funds", At: t0},
			want: want{healed: true, status: models.StatusFailed, history: []string{"applied:advanced"}, raise: []findingKey{},
				check: func(t *testing.T, d decide.Decision) {
					require.Equal(t, "insufficient_funds", *d.Write.New.StatusDetail)
				}},
		},
		{
			name: "pay answer for a key holding another transaction",
			c:    models.PayoutCandidates{ByKey: ours(models.StatusPending, t0)},
			ev:   decide.Withdrawal{Source: models.SourceAPI, IdempotencyKey: "key-1", Transaction: "tx-9", Status: models.StatusPending, At: t0},
			want: want{err: decide.ErrNoPayout},
		},
		{
			name: "pay answer for no recorded payout",
			ev:   decide.Withdrawal{Source: models.SourceAPI, IdempotencyKey: "key-1", Status: models.StatusPending, At: t0},
			want: want{err: decide.ErrNoPayout},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := decide.Payout(tc.c, tc.ev, func() string { return "new-id" })
			if tc.want.err != nil {
				require.ErrorIs(t, err, tc.want.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want.discovered, d.Discovered, "discovered")
			require.Equal(t, tc.want.healed, d.Healed, "healed")
			require.Equal(t, tc.want.status, d.Write.New.Status)
			var rows []string
			for _, h := range d.Write.History {
				r := h.Reason
				if h.Applied {
					r = "applied:" + r
				}
				rows = append(rows, r)
			}
			require.Equal(t, tc.want.history, rows, "history")
			require.Equal(t, tc.want.ifOpened, d.Write.HistoryIfOpened != nil, "history only when a finding opens")
			if k := d.Write.HistoryIfOpened; k != nil {
				require.Contains(t, keys(d.Write.Raise), *k, "the finding whose opening writes the row is raised")
			}
			require.ElementsMatch(t, tc.want.raise, keys(d.Write.Raise), "raised")
			for _, f := range d.Write.Raise {
				require.NotNil(t, f.PayoutID)
				require.NotEmpty(t, f.Severity)
			}
			if tc.want.check != nil {
				tc.want.check(t, d)
			}
		})
	}
}

// BenchmarkPayoutRecordThatAgrees is reconciliation's common case: a page's
// withdraw that says what payoutd already holds.
func BenchmarkPayoutRecordThatAgrees(b *testing.B) {
	p := ours(models.StatusPending, t0)
	ev := record(models.StatusPending, t0)
	b.ReportAllocs()
	for b.Loop() {
		d, err := decide.Payout(models.PayoutCandidates{ByTransaction: p, ByKey: p}, ev, models.NewID)
		if err != nil || len(d.Write.History) > 0 {
			b.Fatalf("%v %v", err, d.Write.History)
		}
	}
}
