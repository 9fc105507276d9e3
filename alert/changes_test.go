package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// sweep runs one sweep and returns what it did.
func (b *bundle) sweep(t *testing.T) SweepResult {
	t.Helper()
	res, err := b.svc.Notifier.Sweep(t.Context())
	require.NoError(t, err)
	return res
}

// A sweep reads the findings opened, acknowledged or resolved since the
// last one, and no other: not those a run merely saw again, and not an
// unchanged open finding even when it lacks its announcement.
func TestSweepReadsOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{noSlack: true, noPD: true})
		var fs []*models.Finding
		for i := range 3 {
			fs = append(fs, raise(t, store, models.KindStuckPayout, fmt.Sprintf("p-%d", i), models.SeverityError))
			clock.Advance(time.Second)
		}
		res := b.sweep(t)
		require.Equal(t, 3, res.Read)
		require.Equal(t, 3, res.Opened)

		require.Zero(t, b.sweep(t).Read, "nothing changed")
		for i := range 3 {
			raise(t, store, models.KindStuckPayout, fmt.Sprintf("p-%d", i), models.SeverityWarning)
		}
		clock.Advance(time.Minute)
		require.Zero(t, b.sweep(t).Read, "seen again by a run: nothing for alerts")

		// Forget that p-0 was announced. Reading every open finding, as
		// sweeps did before, would announce it again; it did not change,
		// so it is not read.
		require.NoError(t, store.DB().Exec("DELETE FROM alert_notices WHERE finding_id = ?", fs[0].ID).Error)
		res = b.sweep(t)
		require.Zero(t, res.Read)
		require.Zero(t, res.Rows)

		// Changes are read, once.
		_, err := store.FindingResolve(t.Context(), models.KindStuckPayout, "p-1")
		require.NoError(t, err)
		opened := raise(t, store, models.KindAmountMismatch, "p-9", models.SeverityError)
		_, err = store.FindingAcknowledge(t.Context(), fs[2].ID, "ops", "on it")
		require.NoError(t, err)
		res = b.sweep(t)
		require.Equal(t, 2, res.Read, "the resolved and the opened one; the acknowledged one is to announce neither way")
		require.Equal(t, 1, res.Resolved)
		require.Equal(t, 1, res.Opened)
		require.Zero(t, b.sweep(t).Read)

		_, err = b.svc.Dispatcher.DispatchOnce(t.Context())
		require.NoError(t, err)
		var ids []string
		for _, r := range b.rows(t, SinkWebhook) {
			ids = append(ids, string(r.Kind)+" "+*r.FindingID)
		}
		require.Equal(t, []string{
			"opened " + fs[0].ID, "opened " + fs[1].ID, "opened " + fs[2].ID,
			"opened " + opened.ID, "resolved " + fs[1].ID,
		}, ids)
		require.Equal(t, 5, b.hook.count())
	})
}

// A sweep that lists as many findings as its Limit leaves the rest to the
// next sweep, which reads from the same mark.
func TestSweepOverItsLimitTakesTheRestNextTime(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{noSlack: true, noPD: true, cfg: Config{Notifier: NotifierConfig{Limit: 2}}})
		for i := range 5 {
			raise(t, store, models.KindStuckPayout, fmt.Sprintf("p-%d", i), models.SeverityError)
			clock.Advance(time.Second)
		}
		var opened []int
		for range 4 {
			opened = append(opened, b.sweep(t).Opened)
		}
		require.Equal(t, []int{2, 2, 1, 0}, opened)
		require.Zero(t, b.sweep(t).Read)
		require.Len(t, b.rows(t, SinkWebhook), 5)
	})
}

// A finding whose transaction began before a sweep and committed after it
// is announced by the next sweep, although a finding changed later was
// already read: a watermark on the largest change read would skip it.
// SQLite has one writer, so no transaction commits across a sweep there.
func TestSweepDoesNotMissAFindingCommittedLate(t *testing.T) {
	t.Parallel()
	clock := dbtest.NewClock(start)
	store := dbtest.Postgres(t, dbtest.Options{NowFunc: clock.Now})
	b := setup(t, store, clock, setupOpts{noSlack: true, noPD: true})

	raised, commit, done := make(chan *models.Finding, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- store.Tx(t.Context(), func(tx *models.Store) error {
			f, _, err := tx.FindingRaise(t.Context(), models.Finding{Kind: models.KindStuckPayout, Subject: "p-late", Severity: models.SeverityError})
			if err != nil {
				return err
			}
			raised <- f
			<-commit
			return nil
		})
	}()
	late := <-raised
	early := raise(t, store, models.KindStuckPayout, "p-early", models.SeverityError)

	res := b.sweep(t)
	require.Equal(t, 1, res.Opened, "the late finding is not committed yet")
	close(commit)
	require.NoError(t, <-done)
	res = b.sweep(t)
	require.Equal(t, 1, res.Opened)
	require.Zero(t, b.sweep(t).Read)

	var got []string
	for _, r := range b.rows(t, SinkWebhook) {
		got = append(got, *r.FindingID)
	}
	require.Equal(t, []string{early.ID, late.ID}, got)
	seq := func(id string) int64 {
		var n int64
		require.NoError(t, store.DB().Raw("SELECT change_seq FROM findings WHERE id = ?", id).Row().Scan(&n))
		return n
	}
	require.Less(t, seq(late.ID), seq(early.ID), "the late finding's change is numbered below the one read first")
}

// On SQLite, which plans without statistics, a sweep's reads search
// indexes for what changed or is due; none scans the findings or the
// announcements. (PostgreSQL plans by its statistics; migration 008
// analyzes the table.)
func TestSweepSearchesIndexesOnSQLite(t *testing.T) {
	t.Parallel()
	clock := dbtest.NewClock(start)
	store := dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now})
	b := setup(t, store, clock, setupOpts{noSlack: true, noPD: true})
	for i := range 300 {
		raise(t, store, models.KindStuckPayout, fmt.Sprintf("p-%d", i), models.SeverityError)
	}
	require.Equal(t, 300, b.sweep(t).Opened)

	var queries []string
	db := store.DB()
	require.NoError(t, db.Callback().Query().After("gorm:query").Register("test:capture", func(tx *gorm.DB) {
		if sql := tx.Statement.SQL.String(); strings.Contains(sql, "findings") {
			queries = append(queries, tx.Dialector.Explain(sql, tx.Statement.Vars...))
		}
	}))
	res := b.sweep(t)
	require.NoError(t, db.Callback().Query().Remove("test:capture"))
	require.Zero(t, res.Read)
	require.Len(t, queries, 3, "new, due again, resolved")
	for _, q := range queries {
		rows, err := db.Raw("EXPLAIN QUERY PLAN " + q).Rows()
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		for _, step := range plan {
			require.False(t, strings.HasPrefix(step, "SCAN"), "%s\nplan: %v", q, plan)
		}
	}
}
