package inbox_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

const (
	rebuildPayouts = 2000
	rebuildUsers   = 100
)

// rebuildEvents are the webhooks of 2,000 withdrawals, in the fixtures'
// shape: each is Pending then Success (or Failure, one in seven), one in
// five goes On Hold between; and KYC Created then Success (one in nine
// Failure) for each user.
func rebuildEvents() [][]byte {
	base := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	var out [][]byte
	at := func(i int, d time.Duration) string {
		return base.Add(time.Duration(i)*time.Second + d).Format("2006-01-02T15:04:05.000Z")
	}
	for i := range rebuildPayouts {
		user := fmt.Sprintf("u-%d", i%rebuildUsers)
		w := func(eventType string, created string) []byte {
			return fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":%q,"data":{"wallet":"3pPusdwko%d",`+
				`"blockchain":"solana","signature":"sig-%05d","userFees":{"cents":0,"currency":"USD"},`+
				`"merchantFees":{"cents":%d,"currency":"USD"},"total":{"cents":%d,"currency":"USD"},"currency":"USD",`+
				`"merchantId":"acme-payouts","userId":%q,"idempotencyKey":"key-%05d"}}`,
				eventType, created, i, i, 100+i%50, 1000+i*7, user, i)
		}
		out = append(out, w("Withdraw Pending", at(i, 0)))
		if i%5 == 0 {
			out = append(out, w("Withdraw On Hold", at(i, 30*time.Minute)))
		}
		terminal := "Withdraw Success"
		if i%7 == 0 {
			terminal = "Withdraw Failure"
		}
		out = append(out, w(terminal, at(i, time.Hour)))
	}
	for u := range rebuildUsers {
		k := func(eventType string, created string) []byte {
			return fmt.Appendf(nil, `{"eventType":%q,"category":"KYC","created":%q,"data":{"wallet":"acme-payoutsʬu-%d",`+
				`"blockchain":"user","email":"user%d@example.com"}}`, eventType, created, u, u)
		}
		out = append(out, k("KYC Created", at(u, 0)))
		final := "KYC Success"
		if u%9 == 0 {
			final = "KYC Failure"
		}
		out = append(out, k(final, at(u, 2*time.Hour)))
	}
	return out
}

// postAll posts bodies signed, 16 at a time.
func postAll(t *testing.T, srv *testserver.Server, bodies [][]byte) {
	t.Helper()
	var wg sync.WaitGroup
	ch := make(chan []byte)
	for range 16 {
		wg.Go(func() {
			for b := range ch {
				code, resp := srv.PostSigned(t, b)
				if code != http.StatusOK {
					t.Errorf("post: %d %s", code, resp)
				}
			}
		})
	}
	for _, b := range bodies {
		ch <- b
	}
	close(ch)
	wg.Wait()
}

// rowsOf reads every column of every row of table, ordered by orderBy, as
// text, leaving out the columns in skip.
func rowsOf(t *testing.T, s *models.Store, table, orderBy string, skip ...string) []map[string]string {
	t.Helper()
	rows, err := s.DB().Raw("SELECT * FROM " + table + " ORDER BY " + orderBy).Rows()
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		m := map[string]string{}
		for i, c := range cols {
			m[c] = fmt.Sprintf("%v", vals[i])
			if b, ok := vals[i].([]byte); ok {
				m[c] = string(b)
			}
		}
		for _, c := range skip {
			delete(m, c)
		}
		out = append(out, m)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestRebuildFromArchive is issue 11's rebuild: on a database whose 2,000
// payouts and 100 withdrawers were built by webhooks delivered shuffled,
// duplicated and late, clear every webhook-derived row and replay the
// archive; the rebuilt payouts and withdrawers equal the originals, every
// column, but for:
//
//   - payouts.id: a payout discovered from a webhook gets a fresh random
//     id (models.NewID) when it is recorded; the rebuilt one is matched by
//     its Coinflow transaction, which is compared;
//   - created_at and updated_at of both tables: the store stamps them with
//     its clock when it writes, and the rebuild runs a day later.
//
// "Clear every webhook-derived field": in this database every payout and
// withdrawer was discovered from a webhook, so every field of them is
// derived: the rows are deleted with their history (which is what marks
// an event applied). Findings are kept (they are raised again, one open per
// subject). The archive is replayed by making every stored event pending
// again and draining the applier, the same path a replay takes.
func TestRebuildFromArchive(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, time.Date(2025, 6, 2, 16, 0, 0, 0, time.UTC), func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		srv := testserver.Start(t, store, testserver.Options{Clock: clock})
		rng := rand.New(rand.NewPCG(11, 3))
		events := rebuildEvents()
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		// Late: the last 30% arrive after the first 70% were applied, with
		// duplicates of both parts (a fifth of the events twice).
		cut := len(events) * 7 / 10
		first, late := append([][]byte{}, events[:cut]...), append([][]byte{}, events[cut:]...)
		for i := 0; i < len(events); i += 5 {
			if i < cut {
				first = append(first, events[i])
				late = append(late, events[i])
			} else {
				late = append(late, events[i])
			}
		}
		rng.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
		rng.Shuffle(len(late), func(i, j int) { late[i], late[j] = late[j], late[i] })
		postAll(t, srv, first)
		srv.Drain(t)
		clock.Advance(time.Hour)
		postAll(t, srv, late)
		srv.Drain(t)

		counts, err := store.InboxCounts(t.Context())
		require.NoError(t, err)
		require.Equal(t, map[models.InboxStatus]int64{models.InboxApplied: int64(len(events))}, counts, "stored once each, all applied")
		skip := []string{"id", "created_at", "updated_at"}
		payouts := rowsOf(t, store, "payouts", "coinflow_transaction", skip...)
		withdrawers := rowsOf(t, store, "withdrawers", "user_id", "created_at", "updated_at")
		require.Len(t, payouts, rebuildPayouts)
		require.Len(t, withdrawers, rebuildUsers)
		var completed int
		for _, p := range payouts {
			if p["status"] == string(models.StatusCompleted) {
				completed++
			}
		}
		require.Equal(t, rebuildPayouts-(rebuildPayouts+6)/7, completed, "the snapshot is the converged state")

		clock.Advance(24 * time.Hour)
		db := store.DB()
		for _, q := range []string{"DELETE FROM payout_history", "DELETE FROM withdrawer_history", "DELETE FROM payouts", "DELETE FROM withdrawers"} {
			require.NoError(t, db.Exec(q).Error)
		}
		require.NoError(t, db.Exec(`UPDATE inbox_events SET status = 'pending', attempts = 0, processed_at = NULL, last_error = NULL, next_attempt_at = ?`,
			clock.Now()).Error)
		srv.Drain(t)

		counts, err = store.InboxCounts(t.Context())
		require.NoError(t, err)
		require.Equal(t, map[models.InboxStatus]int64{models.InboxApplied: int64(len(events))}, counts)
		require.Equal(t, payouts, rowsOf(t, store, "payouts", "coinflow_transaction", skip...), "rebuilt payouts equal the originals")
		require.Equal(t, withdrawers, rowsOf(t, store, "withdrawers", "user_id", "created_at", "updated_at"), "rebuilt withdrawers equal the originals")
	})
}
