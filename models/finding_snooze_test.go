package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

func TestSnoozeProblems(t *testing.T) {
	now := t0
	long := make([]byte, models.MaxSnoozeNote+1)
	for i := range long {
		long[i] = 'x'
	}
	for _, tc := range []struct {
		name  string
		until time.Time
		note  string
		want  map[string]string
	}{
		{"a day ahead", now.Add(24 * time.Hour), "waiting on Coinflow", map[string]string{}},
		{"exactly 90 days", now.Add(models.MaxSnooze), "quarter end", map[string]string{}},
		{"no time", time.Time{}, "x", map[string]string{"until": "is required"}},
		{"now", now, "x", map[string]string{"until": "must be in the future"}},
		{"past", now.Add(-time.Minute), "x", map[string]string{"until": "must be in the future"}},
		{"past 90 days", now.Add(models.MaxSnooze + time.Second), "x", map[string]string{"until": "must be at most 90 days ahead"}},
		{"blank note", now.Add(time.Hour), " \n ", map[string]string{"note": "is required: say why the finding can wait"}},
		{"long note", now.Add(time.Hour), string(long), map[string]string{"note": "must be at most 2000 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, models.SnoozeProblems(now, tc.until, tc.note))
		})
	}
}

// listed returns the ids FindingList gives for status.
func listed(t *testing.T, s *models.Store, status models.FindingStatus) []string {
	t.Helper()
	fs, _, err := s.FindingList(t.Context(), models.FindingFilter{Status: status, Page: models.Page{Limit: 100}})
	require.NoError(t, err)
	ids := []string{}
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

// tally sums FindingTallyUnresolved: the findings shown as open and the
// snoozed ones.
func tally(t *testing.T, s *models.Store) (awake, snoozed int64) {
	t.Helper()
	rows, err := s.FindingTallyUnresolved(t.Context())
	require.NoError(t, err)
	for _, r := range rows {
		awake += r.Awake
		snoozed += r.Snoozed
	}
	return awake, snoozed
}

// A snoozed finding leaves the open list and the counts until its time,
// on the store's clock, and comes back open if its condition still holds,
// reconciliation having kept it open meanwhile.
func TestFindingSnoozeHidesUntilItsTime(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		raise := func(kind models.FindingKind, subject string) *models.Finding {
			f, _, err := s.FindingRaise(ctx, models.Finding{Kind: kind, Subject: subject, Severity: models.SeverityWarning})
			require.NoError(t, err)
			return f
		}
		stuck := raise(models.KindStuckPayout, "p-1")
		other := raise(models.KindStuckPayout, "p-2")
		require.False(t, stuck.Snoozed(clock.Now()))

		clock.Advance(time.Minute)
		until := t0.Add(3 * 24 * time.Hour)
		f, err := s.FindingSnooze(ctx, stuck.ID, until, "ana", "  Coinflow says Friday  ")
		require.NoError(t, err)
		require.Equal(t, models.FindingOpen, f.Status, "a snooze is not a status")
		require.True(t, f.SnoozedUntil.Equal(until))
		require.Equal(t, "Coinflow says Friday", *f.SnoozeNote)
		require.Equal(t, "ana", *f.SnoozedBy)
		require.True(t, f.SnoozedAt.Equal(t0.Add(time.Minute)))
		require.True(t, f.Snoozed(clock.Now()))

		require.Equal(t, []string{other.ID}, listed(t, s, models.FindingOpen))
		require.Equal(t, []string{stuck.ID}, listed(t, s, models.FindingSnoozed))
		require.ElementsMatch(t, []string{stuck.ID, other.ID}, listed(t, s, ""), "the unfiltered list shows it")
		awake, snoozed := tally(t, s)
		require.Equal(t, [2]int64{1, 1}, [2]int64{awake, snoozed})

		// Reconciliation sees the condition again while snoozed: still the
		// same finding, still snoozed, last seen now.
		clock.Advance(24 * time.Hour)
		again := raise(models.KindStuckPayout, "p-1")
		require.Equal(t, stuck.ID, again.ID)
		require.Equal(t, []string{stuck.ID}, listed(t, s, models.FindingSnoozed))

		// Acknowledged while snoozed: it stays out of the acknowledged list
		// until the snooze ends.
		_, err = s.FindingAcknowledge(ctx, stuck.ID, "ana", "ticket 4471")
		require.NoError(t, err)
		require.Empty(t, listed(t, s, models.FindingAcknowledged))

		// One second before the end: hidden; at the end: back.
		clock.Set(until.Add(-time.Second))
		require.Equal(t, []string{stuck.ID}, listed(t, s, models.FindingSnoozed))
		clock.Set(until)
		require.Empty(t, listed(t, s, models.FindingSnoozed))
		require.Equal(t, []string{stuck.ID}, listed(t, s, models.FindingAcknowledged))
		awake, snoozed = tally(t, s)
		require.Equal(t, [2]int64{2, 0}, [2]int64{awake, snoozed})
		got, err := s.FindingGet(ctx, stuck.ID)
		require.NoError(t, err)
		require.False(t, got.Snoozed(clock.Now()))
		require.True(t, got.LastSeenAt.Equal(t0.Add(time.Minute+24*time.Hour)), "reconciliation kept it up to date")
	})
}

// A snooze is refused, changing nothing, when it is not in the future, too
// far ahead, without a note, or on a resolved finding; snoozing again
// replaces the snooze.
func TestFindingSnoozeRefusals(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		f, _, err := s.FindingRaise(ctx, models.Finding{Kind: models.KindWalletLowBalance, Subject: "wallet", Severity: models.SeverityError})
		require.NoError(t, err)

		for _, tc := range []struct {
			until time.Time
			who   string
			note  string
		}{
			{t0, "ana", "x"},
			{t0.Add(-time.Hour), "ana", "x"},
			{t0.Add(models.MaxSnooze + time.Second), "ana", "x"},
			{t0.Add(time.Hour), "ana", ""},
			{t0.Add(time.Hour), "", "x"},
		} {
			_, err := s.FindingSnooze(ctx, f.ID, tc.until, tc.who, tc.note)
			require.ErrorIs(t, err, models.ErrInvalidSnooze, "%+v", tc)
		}
		got, err := s.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Nil(t, got.SnoozedUntil)
		require.Nil(t, got.SnoozeNote)

		_, err = s.FindingSnooze(ctx, models.NewID(), t0.Add(time.Hour), "ana", "x")
		require.ErrorIs(t, err, models.ErrNotFound)

		_, err = s.FindingSnooze(ctx, f.ID, t0.Add(time.Hour), "ana", "first")
		require.NoError(t, err)
		clock.Advance(time.Minute)
		got, err = s.FindingSnooze(ctx, f.ID, t0.Add(48*time.Hour), "ben", "second")
		require.NoError(t, err)
		require.True(t, got.SnoozedUntil.Equal(t0.Add(48*time.Hour)))
		require.Equal(t, "second", *got.SnoozeNote)
		require.Equal(t, "ben", *got.SnoozedBy)

		ok, err := s.FindingResolve(ctx, models.KindWalletLowBalance, "wallet")
		require.NoError(t, err)
		require.True(t, ok)
		_, err = s.FindingSnooze(ctx, f.ID, t0.Add(time.Hour), "ana", "too late")
		require.ErrorIs(t, err, models.ErrConflict)
		got, err = s.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, "second", *got.SnoozeNote, "a refused snooze changes nothing")
	})
}

// Resolving ends a snooze: the resolved finding is not snoozed, and when
// the condition comes back it is a new finding, open, not snoozed, in the
// open list and the counts at once.
func TestFindingSnoozeEndsWithResolution(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		f, _, err := s.FindingRaise(ctx, models.Finding{Kind: models.KindStuckPayout, Subject: "p-9", Severity: models.SeverityWarning})
		require.NoError(t, err)
		_, err = s.FindingSnooze(ctx, f.ID, t0.Add(7*24*time.Hour), "ana", "bank holiday")
		require.NoError(t, err)

		clock.Advance(time.Hour)
		ok, err := s.FindingResolve(ctx, models.KindStuckPayout, "p-9")
		require.NoError(t, err)
		require.True(t, ok, "a snoozed finding resolves as usual")
		got, err := s.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingResolved, got.Status)
		require.False(t, got.Snoozed(clock.Now()))
		require.Empty(t, listed(t, s, models.FindingSnoozed))
		require.Equal(t, []string{f.ID}, listed(t, s, models.FindingResolved))

		clock.Advance(time.Hour)
		back, opened, err := s.FindingRaise(ctx, models.Finding{Kind: models.KindStuckPayout, Subject: "p-9", Severity: models.SeverityWarning})
		require.NoError(t, err)
		require.True(t, opened)
		require.NotEqual(t, f.ID, back.ID)
		require.Nil(t, back.SnoozedUntil)
		require.Equal(t, []string{back.ID}, listed(t, s, models.FindingOpen))
		awake, snoozed := tally(t, s)
		require.Equal(t, [2]int64{1, 0}, [2]int64{awake, snoozed})
	})
}
