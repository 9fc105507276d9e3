package models_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// TestInboxClaimLooksPastItsWindow: the claim starts from the oldest
// pending event, and when the events there are all waiting for a retry it
// finds the due ones after them, oldest first, without taking any twice.
func TestInboxClaimLooksPastItsWindow(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		evs := make([]models.InboxEvent, 60)
		for i := range evs {
			evs[i] = models.InboxEvent{DedupKey: fmt.Sprintf("k-%02d", i), EventType: "Withdraw Pending", Body: []byte("{}")}
		}
		_, err := s.InboxInsert(ctx, evs)
		require.NoError(t, err)
		// The first 40 (more than the window of a claim of 3) retry later.
		for _, ev := range evs[:40] {
			require.NoError(t, s.InboxRetryLater(ctx, ev.ID, 1, t0.Add(time.Hour), "retry"))
		}
		var got []int64
		require.NoError(t, s.Tx(ctx, func(tx *models.Store) error {
			claimed, err := tx.InboxClaim(ctx, 3)
			for _, ev := range claimed {
				got = append(got, ev.ID)
			}
			return err
		}))
		require.Equal(t, []int64{evs[40].ID, evs[41].ID, evs[42].ID}, got)

		// Part of the window due: those first, then past it.
		clock.Set(t0.Add(2 * time.Hour))
		for _, ev := range evs[:22] {
			require.NoError(t, s.InboxFinish(ctx, ev.ID, models.InboxApplied, ""))
		}
		for _, ev := range evs[22:38] {
			require.NoError(t, s.InboxRetryLater(ctx, ev.ID, 2, t0.Add(3*time.Hour), "retry"))
		}
		got = nil
		require.NoError(t, s.Tx(ctx, func(tx *models.Store) error {
			claimed, err := tx.InboxClaim(ctx, 5)
			for _, ev := range claimed {
				got = append(got, ev.ID)
			}
			return err
		}))
		require.Equal(t, []int64{evs[38].ID, evs[39].ID, evs[40].ID, evs[41].ID, evs[42].ID}, got)
	})
}
