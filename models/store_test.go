package models_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

func TestPayoutApplyNeverMovesBackwards(t *testing.T) {
	clock := dbtest.NewClock(t0)
	dbtest.EachOpts(t, dbtest.Options{NowFunc: clock.Now}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		p := &models.Payout{
			UserID: "u-1", Amount: models.Money{Cents: 2500, Currency: "USD"}, Status: models.StatusPending,
			StatusAt: t0, CoinflowTransaction: new("sig-1"), Source: models.OriginDiscovered,
		}
		require.NoError(t, s.PayoutCreate(ctx, p, models.SourceWebhook, nil))
		apply := func(st models.PayoutStatus, at time.Time) models.PayoutChange {
			var ch models.PayoutChange
			require.NoError(t, s.Tx(ctx, func(tx *models.Store) error {
				got, err := tx.PayoutForUpdate(ctx, "sig-1", "")
				if err != nil {
					return err
				}
				ch, err = tx.PayoutApply(ctx, got, models.PayoutEvidence{Status: st, At: at, Source: models.SourceWebhook}, nil, nil)
				return err
			}))
			return ch
		}
		require.True(t, apply(models.StatusCompleted, t0.Add(time.Hour)).Apply)
		require.False(t, apply(models.StatusPending, t0.Add(2*time.Hour)).Apply, "pending after completed is stale")
		ch := apply(models.StatusFailed, t0.Add(3*time.Hour))
		require.True(t, ch.Apply, "a newer failure after success is applied")
		require.True(t, ch.Conflict)

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
	clock := dbtest.NewClock(t0)
	dbtest.EachOpts(t, dbtest.Options{NowFunc: clock.Now}, func(t *testing.T, s *models.Store) {
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
// PayoutsMatching reads a payout with every column set, and one with every
// nullable column NULL, exactly as GORM does.
func TestPayoutsMatchingLoadsEveryField(t *testing.T) {
	clock := dbtest.NewClock(t0)
	dbtest.EachOpts(t, dbtest.Options{NowFunc: clock.Now}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		full := &models.Payout{
			IdempotencyKey: ptrTo("key-full"), UserID: "user-1", Amount: models.Money{Cents: 12_345, Currency: "USD"},
			RequestedSpeed: ptrTo("same_day"), Status: models.StatusPending, StatusDetail: ptrTo(models.DetailUnclaimed),
			StatusAt: t0.Add(-time.Minute), CoinflowTransaction: ptrTo("tx-full"), AccountToken: ptrTo("tok-secret"),
			Source: models.OriginAPI, RequestFingerprint: ptrTo("fp"),
		}
		require.NoError(t, s.PayoutCreate(ctx, full, models.SourceAPI, nil))
		clock.Advance(time.Second)
		require.NoError(t, s.PayoutUpdateFields(ctx, full.ID, map[string]any{
			"effective_speed": "standard", "return_status": "return_completed", "coinflow_transfer_id": "tr-1",
			"user_fees_cents": 150, "user_fees_currency": "EUR", "merchant_fees_cents": 25, "merchant_fees_currency": "GBP",
			"expected_delivery_at": t0.Add(72 * time.Hour), "initiation_lease_until": t0.Add(time.Minute),
			"returned_at": t0.Add(-30 * time.Second),
		}))
		bare := &models.Payout{UserID: "user-2", Amount: models.Money{Cents: 1, Currency: "EUR"},
			Status: models.StatusCompleted, StatusAt: t0, Source: models.OriginDiscovered}
		require.NoError(t, s.PayoutCreate(ctx, bare, models.SourceReconcile, nil))

		got, err := s.PayoutsMatching(ctx, []string{"tx-full", "tx-unknown"}, []string{"key-full"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		want, err := s.PayoutGet(ctx, full.ID)
		require.NoError(t, err)
		require.NotNil(t, want.ReturnedAt, "the fixture sets every column")
		require.NotNil(t, want.InitiationLeaseUntil, "the fixture sets every column")
		requireSamePayout(t, want, &got[0])

		// By idempotency key alone, and a payout with every nullable column NULL.
		require.NoError(t, s.PayoutUpdateFields(ctx, bare.ID, map[string]any{"idempotency_key": "key-bare"}))
		got, err = s.PayoutsMatching(ctx, nil, []string{"key-bare"})
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

// TestPayoutUpdateFieldsUnchangedRefusesAStaleRead: fields decided from a
// payout read before another writer changed it are not written.
func TestPayoutUpdateFieldsUnchangedRefusesAStaleRead(t *testing.T) {
	clock := dbtest.NewClock(t0)
	dbtest.EachOpts(t, dbtest.Options{NowFunc: clock.Now}, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		p := &models.Payout{UserID: "user-1", Amount: models.Money{Cents: 500, Currency: "USD"},
			Status: models.StatusPending, StatusAt: t0, Source: models.OriginAPI}
		require.NoError(t, s.PayoutCreate(ctx, p, models.SourceAPI, nil))
		stale, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)

		clock.Advance(time.Second)
		require.NoError(t, s.PayoutUpdateFields(ctx, p.ID, map[string]any{"effective_speed": "standard"}))
		clock.Advance(time.Second)
		err = s.PayoutUpdateFieldsUnchanged(ctx, stale, map[string]any{"effective_speed": "same_day"})
		require.ErrorIs(t, err, models.ErrConflict)
		got, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, "standard", *got.EffectiveSpeed, "the newer write stands")

		require.NoError(t, s.PayoutUpdateFieldsUnchanged(ctx, got, map[string]any{"effective_speed": "same_day"}))
		require.True(t, got.UpdatedAt.Equal(clock.Now()), "updated_at moves with the write")
		again, err := s.PayoutGet(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, "same_day", *again.EffectiveSpeed)
		require.True(t, again.UpdatedAt.Equal(got.UpdatedAt))
		require.NoError(t, s.PayoutUpdateFieldsUnchanged(ctx, again, map[string]any{"coinflow_transfer_id": "tr-2"}),
			"a payout read back can be written again")
	})
}
