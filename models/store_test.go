package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

var t0 = time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)

func TestMigrateIsIdempotentAndCurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		applied, err := s.Migrate(t.Context())
		require.NoError(t, err)
		require.Empty(t, applied, "second migrate applies nothing")
		ok, err := s.MigrationsCurrent(t.Context())
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestInboxInsertDeduplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		got, err := s.InboxInsert(ctx, []models.InboxEvent{
			{DedupKey: "a", EventType: "Withdraw Pending", Body: []byte(`{"a":1}`)},
			{DedupKey: "b", EventType: "Withdraw Success", Body: []byte{0xff, 0x00}},
			{DedupKey: "a", EventType: "Withdraw Pending", Body: []byte(`{"a":1}`)},
		})
		require.NoError(t, err)
		require.Equal(t, []bool{true, true, false}, got)
		got, err = s.InboxInsert(ctx, []models.InboxEvent{{DedupKey: "b", EventType: "x", Body: []byte("y")}})
		require.NoError(t, err)
		require.Equal(t, []bool{false}, got)
		counts, err := s.InboxCounts(ctx)
		require.NoError(t, err)
		require.Equal(t, map[models.InboxStatus]int64{models.InboxPending: 2}, counts)
		n, oldest, err := s.InboxBacklog(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.False(t, oldest.IsZero())

		var claimed []models.InboxEvent
		require.NoError(t, s.Tx(ctx, func(tx *models.Store) error {
			claimed, err = tx.InboxClaim(ctx, 10)
			return err
		}))
		require.Len(t, claimed, 2)
		require.Equal(t, []byte{0xff, 0x00}, claimed[1].Body, "raw bytes survive storage")
	})
}

func TestPayoutWriteNeverMovesBackwards(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, _ *dbtest.Clock) {
		ctx := t.Context()
		p := &models.Payout{
			UserID: "u-1", Amount: models.Money{Cents: 2500, Currency: "USD"}, Status: models.StatusPending,
			StatusAt: t0, CoinflowTransaction: new("sig-1"), Source: models.OriginDiscovered,
		}
		require.NoError(t, s.PayoutCreate(ctx, p, models.SourceWebhook, nil))
		apply := func(st models.PayoutStatus, at time.Time) decide.Decision {
			d, err := dbtest.Apply(ctx, s, p.ID, decide.Withdrawal{Source: models.SourceWebhook, Status: st, At: at})
			require.NoError(t, err)
			return d
		}
		require.True(t, apply(models.StatusCompleted, t0.Add(time.Hour)).Healed)
		require.False(t, apply(models.StatusPending, t0.Add(2*time.Hour)).Healed, "pending after completed is stale")
		d := apply(models.StatusFailed, t0.Add(3*time.Hour))
		require.True(t, d.Healed, "a newer failure after success is applied")
		require.Equal(t, decide.TerminalSubject(p.ID), d.Write.Raise[0].Subject)

		got, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, models.StatusFailed, got.Status)
		hist, err := s.PayoutHistoryList(ctx, p.ID)
		require.NoError(t, err)
		require.Len(t, hist, 4)
		require.Equal(t, []bool{true, true, false, true}, []bool{hist[0].Applied, hist[1].Applied, hist[2].Applied, hist[3].Applied})

		dup := &models.Payout{UserID: "u-2", Amount: models.Money{Cents: 1, Currency: "USD"}, Status: models.StatusPending,
			CoinflowTransaction: new("sig-1"), Source: models.OriginDiscovered}
		require.True(t, errors.Is(s.PayoutCreate(ctx, dup, models.SourceWebhook, nil), models.ErrConflict))
	})
}

func TestFindingRaiseIsOnePerKindAndSubject(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		f := models.Finding{Kind: models.KindStuckPayout, Subject: "p-1", Severity: models.SeverityWarning, Details: models.Details{"n": 1}}
		first, opened, err := s.FindingRaise(ctx, f)
		require.NoError(t, err)
		require.True(t, opened)
		clock.Advance(time.Minute)
		again, opened, err := s.FindingRaise(ctx, f)
		require.NoError(t, err)
		require.False(t, opened)
		require.Equal(t, first.ID, again.ID)
		require.True(t, again.LastSeenAt.After(first.LastSeenAt))

		acked, err := s.FindingAcknowledge(ctx, first.ID, "api", "looking")
		require.NoError(t, err)
		require.Equal(t, models.FindingAcknowledged, acked.Status)

		// A raise returns the stored finding: what the upsert keeps (when
		// it was first seen, the acknowledgement) and what it updates.
		clock.Advance(time.Minute)
		f.Severity, f.Details = models.SeverityError, models.Details{"n": 2}
		stored, opened, err := s.FindingRaise(ctx, f)
		require.NoError(t, err)
		require.False(t, opened)
		require.Equal(t, first.ID, stored.ID)
		require.True(t, stored.FirstSeenAt.Equal(first.FirstSeenAt), "first seen %s, want %s", stored.FirstSeenAt, first.FirstSeenAt)
		require.True(t, stored.LastSeenAt.Equal(clock.Now()), "last seen %s, want %s", stored.LastSeenAt, clock.Now())
		require.Equal(t, models.FindingAcknowledged, stored.Status, "a raise keeps the acknowledgement")
		require.Equal(t, "looking", *stored.AckNote)
		require.Equal(t, models.SeverityError, stored.Severity)
		require.EqualValues(t, 2, stored.Details["n"])

		resolved, err := s.FindingResolve(ctx, models.KindStuckPayout, "p-1")
		require.NoError(t, err)
		require.True(t, resolved)
		third, opened, err := s.FindingRaise(ctx, f)
		require.NoError(t, err)
		require.True(t, opened, "after resolution the condition opens a new finding")
		require.NotEqual(t, first.ID, third.ID)

		all, next, err := s.FindingList(ctx, models.FindingFilter{Page: models.Page{Limit: 1}})
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.NotEmpty(t, next)
		rest, next, err := s.FindingList(ctx, models.FindingFilter{Page: models.Page{Limit: 1, Cursor: next}})
		require.NoError(t, err)
		require.Len(t, rest, 1)
		require.Empty(t, next)
		require.NotEqual(t, all[0].ID, rest[0].ID)
	})
}

// TestPayoutsMatchingLoadsEveryField: the hand-written scan behind
// PayoutListMatching reads a payout with every column set, and one with every
// nullable column NULL, exactly as GORM does.
func TestPayoutsMatchingLoadsEveryField(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		full := &models.Payout{
			IdempotencyKey: ptrTo("key-full"), UserID: "user-1", Amount: models.Money{Cents: 12_345, Currency: "USD"},
			RequestedSpeed: ptrTo("same_day"), Status: models.StatusPending, StatusDetail: ptrTo(models.DetailUnclaimed),
			StatusAt: t0.Add(-time.Minute), CoinflowTransaction: ptrTo("tx-full"), AccountToken: ptrTo("tok-secret"),
			Source: models.OriginAPI, RequestFingerprint: ptrTo("fp"),
		}
		require.NoError(t, s.PayoutCreate(ctx, full, models.SourceAPI, nil))
		clock.Advance(time.Second)
		require.NoError(t, setColumns(ctx, s, full.ID, map[string]any{
			"effective_speed": "standard", "return_status": "return_completed", "coinflow_transfer_id": "tr-1",
			"user_fees_cents": 150, "user_fees_currency": "EUR", "merchant_fees_cents": 25, "merchant_fees_currency": "GBP",
			"expected_delivery_at": t0.Add(72 * time.Hour), "initiation_lease_until": t0.Add(time.Minute),
			"returned_at": t0.Add(-30 * time.Second), "updated_at": clock.Now(),
		}))
		bare := &models.Payout{UserID: "user-2", Amount: models.Money{Cents: 1, Currency: "EUR"},
			Status: models.StatusCompleted, StatusAt: t0, Source: models.OriginDiscovered}
		require.NoError(t, s.PayoutCreate(ctx, bare, models.SourceReconcile, nil))

		got, err := s.PayoutListMatching(ctx, []string{"tx-full", "tx-unknown"}, []string{"key-full"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		want, err := s.PayoutGet(ctx, full.ID)
		require.NoError(t, err)
		require.NotNil(t, want.ReturnedAt, "the fixture sets every column")
		require.NotNil(t, want.InitiationLeaseUntil, "the fixture sets every column")
		requireSamePayout(t, want, &got[0])

		// By idempotency key alone, and a payout with every nullable column NULL.
		require.NoError(t, setColumns(ctx, s, bare.ID, map[string]any{"idempotency_key": "key-bare"}))
		got, err = s.PayoutListMatching(ctx, nil, []string{"key-bare"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		want, err = s.PayoutGet(ctx, bare.ID)
		require.NoError(t, err)
		require.Nil(t, want.CoinflowTransaction)
		requireSamePayout(t, want, &got[0])
	})
}

// requireSamePayout compares field by field, times by instant.
func requireSamePayout(t *testing.T, want, got *models.Payout) {
	t.Helper()
	instant := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := p.UTC()
		return &v
	}
	norm := func(p models.Payout) models.Payout {
		p.StatusAt, p.CreatedAt, p.UpdatedAt = p.StatusAt.UTC(), p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		p.ExpectedDeliveryAt, p.InitiationLeaseUntil, p.ReturnedAt = instant(p.ExpectedDeliveryAt), instant(p.InitiationLeaseUntil), instant(p.ReturnedAt)
		return p
	}
	require.Equal(t, norm(*want), norm(*got))
}

func ptrTo[T any](v T) *T { return &v }

// setColumns seeds columns of a payout directly, beside every write path.
func setColumns(ctx context.Context, s *models.Store, id string, cols map[string]any) error {
	return s.DB().WithContext(ctx).Model(&models.Payout{}).Where("id = ?", id).Updates(cols).Error
}

// TestPayoutWriteRefusesAStaleRead: a decision made from a payout read
// before another writer changed it is not written.
func TestPayoutWriteRefusesAStaleRead(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		p := &models.Payout{UserID: "user-1", Amount: models.Money{Cents: 500, Currency: "USD"},
			Status: models.StatusPending, StatusAt: t0, Source: models.OriginAPI, CoinflowTransaction: ptrTo("tx-1")}
		require.NoError(t, s.PayoutCreate(ctx, p, models.SourceAPI, nil))
		stale, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)
		record := func(speed string) decide.Withdrawal {
			return decide.Withdrawal{Source: models.SourceReconcile, Transaction: "tx-1", Status: models.StatusPending, At: t0, EffectiveSpeed: speed}
		}

		clock.Advance(time.Second)
		_, err = dbtest.Apply(ctx, s, p.ID, record("standard"))
		require.NoError(t, err)
		clock.Advance(time.Second)
		d, err := decide.Payout(models.PayoutCandidates{ByTransaction: stale}, record("same_day"), models.NewID)
		require.NoError(t, err)
		_, err = s.PayoutWrite(ctx, d.Write)
		require.ErrorIs(t, err, models.ErrConflict)
		got, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, "standard", *got.EffectiveSpeed, "the newer write stands")

		d, err = decide.Payout(models.PayoutCandidates{ByTransaction: got}, record("same_day"), models.NewID)
		require.NoError(t, err)
		_, err = s.PayoutWrite(ctx, d.Write)
		require.NoError(t, err)
		require.True(t, d.Write.New.UpdatedAt.Equal(clock.Now()), "updated_at moves with the write")
		again, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, "same_day", *again.EffectiveSpeed)
		require.True(t, again.UpdatedAt.Equal(d.Write.New.UpdatedAt))
		hist, err := s.PayoutHistoryList(ctx, p.ID)
		require.NoError(t, err)
		last := hist[len(hist)-1]
		require.Equal(t, decide.ReasonFieldsChanged, last.Reason)
		require.Equal(t, models.Changes{"effective_speed": {"standard", "same_day"}}, last.Changes, "the change is in history, read back")
	})
}

// TestWalletMovementPerStepIsWalletMovementBetweenForEachStep: the one-pass
// series gives, step by step, what the per-interval sums give, boundaries
// included (a payout at a snapshot's instant belongs to the step it ends).
func TestWalletMovementPerStepIsWalletMovementBetweenForEachStep(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		times := []time.Time{t0, t0.Add(10 * time.Minute), t0.Add(20 * time.Minute), t0.Add(20 * time.Minute), t0.Add(40 * time.Minute)}
		mk := func(i int, created time.Time, currency string, withTxn bool) *models.Payout {
			p := &models.Payout{
				UserID: "u", Status: models.StatusPending, StatusAt: created, Source: models.OriginDiscovered, CreatedAt: created,
				Amount:       models.Money{Cents: int64(1_000 * (i + 1)), Currency: currency},
				MerchantFees: models.Money{Cents: int64(10 * (i + 1)), Currency: currency},
			}
			if withTxn {
				p.CoinflowTransaction = ptrTo(fmt.Sprintf("tx-%d", i))
			}
			require.NoError(t, s.PayoutCreate(ctx, p, models.SourceReconcile, nil))
			return p
		}
		// Debits: inside steps, on boundaries (t0 itself is outside the
		// series), before and after it; an EUR payout by its wallet debit, a
		// BRL one not priced yet counted apart, and a payout that never
		// reached Coinflow not at all.
		offsets := []time.Duration{-time.Minute, 0, time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute, 39 * time.Minute, 40 * time.Minute, 41 * time.Minute}
		var ps []*models.Payout
		for i, d := range offsets {
			ps = append(ps, mk(i, t0.Add(d), "USD", true))
		}
		eur := mk(100, t0.Add(5*time.Minute), "EUR", true)
		require.NoError(t, setColumns(ctx, s, eur.ID, map[string]any{"wallet_debit_cents": 1_234}))
		mk(101, t0.Add(5*time.Minute), "USD", false)
		mk(102, t0.Add(25*time.Minute), "BRL", true)

		// Credits: a return completed with its time (step 2), one whose
		// time is the failure's history row (step 4), one on a boundary,
		// and a failure without a completed return (not a credit).
		fail := func(p *models.Payout, at time.Time, ret string, returnedAt *time.Time) {
			clock.Set(at)
			_, err := dbtest.Apply(ctx, s, p.ID, decide.Withdrawal{
				Source: models.SourceReconcile, Status: models.StatusFailed, At: at, ReturnStatus: ret, ReturnedAt: returnedAt,
			})
			require.NoError(t, err)
		}
		fail(ps[2], t0.Add(11*time.Minute), "return_completed", ptrTo(t0.Add(12*time.Minute)))
		fail(ps[3], t0.Add(30*time.Minute), "return_completed", nil)
		fail(ps[4], t0.Add(35*time.Minute), "return_completed", ptrTo(t0.Add(40*time.Minute)))
		fail(ps[5], t0.Add(36*time.Minute), "", nil)

		got, err := s.WalletMovementPerStep(ctx, times)
		require.NoError(t, err)
		require.Len(t, got, len(times))
		require.Zero(t, got[0])
		var debited, refunded int64
		var foreign [5]int64
		var unpriced [5]int64
		for i := 1; i < len(times); i++ {
			want, err := s.WalletMovementBetween(ctx, times[i-1], times[i])
			require.NoError(t, err)
			require.Equal(t, want, got[i], "step %d: (%s, %s]", i, times[i-1], times[i])
			debited += got[i].PayoutsCents
			refunded += got[i].RefundedCents
			foreign[i], unpriced[i] = got[i].ForeignCents, got[i].Unpriced
		}
		require.Equal(t, [5]int64{0, 1_234, 0, 0, 0}, foreign, "the EUR debit in its step")
		require.Equal(t, [5]int64{0, 0, 0, 0, 1}, unpriced, "the BRL payout in its step")
		// The fixture is not vacuous: offsets 1m..40m (indexes 2..7) debit,
		// t0 itself and what lies outside do not, and the three completed
		// returns credit.
		require.EqualValues(t, 3_000+4_000+5_000+6_000+7_000+8_000, debited)
		require.EqualValues(t, (3_000+30)+(4_000+40)+(5_000+50), refunded)
		require.NotZero(t, got[4].RefundedCents, "the return on the last boundary")

		_, err = s.WalletMovementPerStep(ctx, []time.Time{times[1], times[0]})
		require.Error(t, err, "times out of order")
	})
}

// TestWalletMovementPerStepRefusesTimesItCannotPlace: SQLite compares stored
// times as text, which orders them rightly only in UTC (payoutd writes UTC).
// A time written with another offset can pass the query's range and still
// lie outside the series; the series is then an error, not a panic or a sum
// put in the wrong step.
func TestWalletMovementPerStepRefusesTimesItCannotPlace(t *testing.T) {
	clock := dbtest.NewClock(t0)
	s := dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now})
	ctx := t.Context()
	p := &models.Payout{UserID: "u", Amount: models.Money{Cents: 100, Currency: "USD"}, Status: models.StatusPending,
		StatusAt: t0.Add(-time.Hour), Source: models.OriginDiscovered, CreatedAt: t0.Add(-time.Hour), CoinflowTransaction: ptrTo("tx-1")}
	require.NoError(t, s.PayoutCreate(ctx, p, models.SourceReconcile, nil))
	// 15:20 at UTC-2 is 17:20Z, after the series; as text it sorts inside it.
	returned := time.Date(2026, 11, 2, 15, 20, 0, 0, time.FixedZone("", -2*60*60))
	_, err := dbtest.Apply(ctx, s, p.ID, decide.Withdrawal{Source: models.SourceWebhook, Status: models.StatusFailed, At: t0})
	require.NoError(t, err)
	// Written beside the decision, which stores times in UTC.
	require.NoError(t, setColumns(ctx, s, p.ID, map[string]any{"return_status": "return_completed", "returned_at": returned}))
	_, err = s.WalletMovementPerStep(ctx, []time.Time{t0, t0.Add(40 * time.Minute)})
	require.ErrorContains(t, err, "outside")
}
