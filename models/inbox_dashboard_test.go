package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

var eventsT0 = time.Date(2025, 6, 20, 15, 0, 0, 0, time.UTC)

func seedEvents(t *testing.T, s *models.Store, clock *dbtest.Clock) *dashboardtest.Events {
	fx := dashboardtest.Seed(t, s, clock, eventsT0)
	return dashboardtest.SeedEvents(t, s, clock, fx)
}

func eventIDs(evs []models.InboxEvent) []int64 {
	out := make([]int64, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// allPages walks EventList's pages of size n.
func allPages(t *testing.T, s *models.Store, f models.EventFilter, n int) []int64 {
	t.Helper()
	var out []int64
	f.Page = models.Page{Limit: n}
	for range 100 {
		evs, next, err := s.EventList(t.Context(), f)
		require.NoError(t, err)
		require.LessOrEqual(t, len(evs), n)
		for _, e := range evs {
			require.Nil(t, e.Body, "the list leaves bodies out")
		}
		out = append(out, eventIDs(evs)...)
		if next == "" {
			return out
		}
		f.Page.Cursor = next
	}
	t.Fatal("no last page")
	return nil
}

func TestEventListFiltersAndPages(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, eventsT0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ev := seedEvents(t, s, clock)
		want := func(keep func(e models.InboxEvent) bool) []int64 {
			var out []int64
			for _, e := range ev.All {
				if keep(e) {
					out = append(out, e.ID)
				}
			}
			return out
		}
		require.Equal(t, eventIDs(ev.All), allPages(t, s, models.EventFilter{}, 7), "newest first, ties by id, across pages")
		for _, f := range []struct {
			f    models.EventFilter
			keep func(e models.InboxEvent) bool
		}{
			{models.EventFilter{Status: models.InboxParked}, func(e models.InboxEvent) bool { return e.Status == models.InboxParked }},
			{models.EventFilter{Status: models.InboxApplied}, func(e models.InboxEvent) bool { return e.Status == models.InboxApplied }},
			{models.EventFilter{EventType: "Withdraw Failure"}, func(e models.InboxEvent) bool { return e.EventType == "Withdraw Failure" }},
			{models.EventFilter{Transaction: "sig-001"}, func(e models.InboxEvent) bool { return models.Deref(e.SubjectTransaction) == "sig-001" }},
			{models.EventFilter{UserID: dashboardtest.SearchUser}, func(e models.InboxEvent) bool { return models.Deref(e.SubjectUserID) == dashboardtest.SearchUser }},
			{models.EventFilter{AuthMethod: models.AuthAuthorization}, func(e models.InboxEvent) bool { return models.Deref(e.AuthMethod) == models.AuthAuthorization }},
			{models.EventFilter{AuthMethod: models.AuthSignature, Status: models.InboxApplied}, func(e models.InboxEvent) bool {
				return models.Deref(e.AuthMethod) == models.AuthSignature && e.Status == models.InboxApplied
			}},
			{models.EventFilter{From: ev.All[40].ReceivedAt, To: ev.All[10].ReceivedAt}, func(e models.InboxEvent) bool {
				return !e.ReceivedAt.Before(ev.All[40].ReceivedAt) && e.ReceivedAt.Before(ev.All[10].ReceivedAt)
			}},
		} {
			w := want(f.keep)
			require.NotEmpty(t, w, "%+v", f.f)
			require.Equal(t, w, allPages(t, s, f.f, 3), "%+v", f.f)
		}
		_, _, err := s.EventList(t.Context(), models.EventFilter{Page: models.Page{Cursor: "nope"}})
		require.ErrorIs(t, err, models.ErrBadCursor)

		eff, err := s.EventEffects(t.Context(), ev.Payout.ID)
		require.NoError(t, err)
		require.Len(t, eff.Payouts, 1)
		require.Equal(t, models.StatusCompleted, models.PayoutStatus(eff.Payouts[0].ToStatus))
		require.Empty(t, eff.Withdrawers)
		eff, err = s.EventEffects(t.Context(), ev.Withdrawer.ID)
		require.NoError(t, err)
		require.Empty(t, eff.Payouts)
		require.Len(t, eff.Withdrawers, 1)
		require.Equal(t, dashboardtest.SearchUser, eff.Withdrawers[0].UserID)
	})
}

func TestEventRequeue(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, eventsT0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		ev := seedEvents(t, s, clock)
		clock.Advance(time.Minute)
		now := clock.Now().UTC()

		// A parked event is pending again, due now, with no attempts.
		r, err := s.EventRequeue(ctx, ev.Parked.ID, "dashboard")
		require.NoError(t, err)
		require.Equal(t, models.ReplayRequeued, *r.Outcome)
		got, err := s.InboxGet(ctx, ev.Parked.ID)
		require.NoError(t, err)
		require.Equal(t, models.InboxPending, got.Status)
		require.Zero(t, got.Attempts)
		require.True(t, got.NextAttemptAt.Equal(now), "%s", got.NextAttemptAt)

		// Applied, ignored and pruned events are left alone.
		for _, e := range []*models.InboxEvent{ev.Payout, ev.Ignored, ev.Pruned} {
			r, err := s.EventRequeue(ctx, e.ID, "ops")
			require.NoError(t, err)
			require.Equal(t, models.ReplayUnchanged, *r.Outcome)
			after, err := s.InboxGet(ctx, e.ID)
			require.NoError(t, err)
			after.Body, e.Body = nil, nil
			require.Equal(t, e, after, "nothing changed")
		}

		rs, err := s.EventReplays(ctx, ev.Parked.ID)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, "dashboard", rs[0].ReplayedBy)
		require.True(t, rs[0].RequestedAt.Equal(now))
		require.Equal(t, models.ReplayRequeued, *rs[0].Outcome)
		rs, err = s.EventReplays(ctx, ev.Payout.ID)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, "ops", rs[0].ReplayedBy)

		_, err = s.EventRequeue(ctx, 1<<40, "dashboard")
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}
