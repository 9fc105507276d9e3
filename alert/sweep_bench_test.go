package alert

import (
	"strconv"
	"testing"
	"time"

	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// BenchmarkSweepNothingChanged measures the sweep alerting runs every 10
// seconds when 10,000 findings are open, all announced, and none changed:
// the common case, which found nothing to do by reading them all. It uses
// only what every version of the notifier has, so that the same file times
// an older commit too. On SQLite and, with PAYOUTD_TEST_DATABASE_URL,
// PostgreSQL:
//
//	go test ./alert -run '^$' -bench BenchmarkSweepNothingChanged -benchtime 200x
func BenchmarkSweepNothingChanged(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB, dbtest.Options) *models.Store
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			const open = 10_000
			clock := dbtest.NewClock(start)
			store := db.open(b, dbtest.Options{NowFunc: clock.Now})
			ctx := b.Context()
			at := clock.Now()
			err := store.DB().WithContext(ctx).Exec(`INSERT INTO findings (id, kind, subject, severity, status, details, first_seen_at, last_seen_at)
SELECT 'f-' || g, 'stuck_payout', 'p-' || g, 'error', 'open', '{}', ?, ? FROM (`+series(store, open)+`) s`, at, at).Error
			if err != nil {
				b.Fatal(err)
			}
			logger, _ := logtest.NewNullLogger()
			n, err := NewNotifier(store, logger.WithField("component", "alert"), NotifierConfig{Limit: 2 * open})
			if err != nil {
				b.Fatal(err)
			}
			res, err := n.Sweep(ctx) // announces them all, as one summary
			if err != nil || res.Opened != open {
				b.Fatalf("first sweep: %+v, %v", res, err)
			}
			if store.Dialect() == models.DialectPostgres {
				// As autovacuum would after so many rows.
				if err := store.DB().WithContext(ctx).Exec("ANALYZE findings, alert_notices").Error; err != nil {
					b.Fatal(err)
				}
			}
			clock.Advance(time.Minute)
			for b.Loop() {
				res, err := n.Sweep(ctx)
				if err != nil || res.Rows != 0 {
					b.Fatalf("sweep: %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/sweep")
		})
	}
}

// series is SQL for the rows g = 1..n.
func series(store *models.Store, n int) string {
	if store.Dialect() == models.DialectPostgres {
		return "SELECT generate_series(1, " + strconv.Itoa(n) + ") AS g"
	}
	return "WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r WHERE g < " + strconv.Itoa(n) + ") SELECT g FROM r"
}
