package report_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// BenchmarkWalletSeries measures what the report's wallet section costs over
// a month of five-minute snapshots (8,640) and 20,000 payouts (1% returned):
// the series in one pass (WalletMovementPerStep, what the report uses) against
// the baseline of two queries per step (WalletMovementBetween, what the
// report used before and the drift check uses for its one step), both timed
// in every iteration. It reports the milliseconds of each and their ratio
// ("speedup"), on SQLite and, with PAYOUTD_TEST_DATABASE_URL, PostgreSQL:
//
//	go test ./report -run '^$' -bench BenchmarkWalletSeries -benchtime 3x
func BenchmarkWalletSeries(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB, dbtest.Options) *models.Store
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			const (
				snapshots = 30 * 24 * 12
				payouts   = 20_000
			)
			start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
			clock := dbtest.NewClock(start)
			store := db.open(b, dbtest.Options{NowFunc: clock.Now})
			times := seedWalletMonth(b, store, clock, start, snapshots, payouts)

			var series, perStep time.Duration
			for b.Loop() {
				began := time.Now()
				got, err := store.WalletMovementPerStep(b.Context(), times)
				if err != nil {
					b.Fatal(err)
				}
				series += time.Since(began)

				began = time.Now()
				for i := 1; i < len(times); i++ {
					want, err := store.WalletMovementBetween(b.Context(), times[i-1], times[i])
					if err != nil {
						b.Fatal(err)
					}
					if want != got[i] {
						b.Fatalf("step %d: series %+v, per step %+v", i, got[i], want)
					}
				}
				perStep += time.Since(began)
			}
			n := float64(b.N)
			b.ReportMetric(float64(series.Milliseconds())/n, "series-ms")
			b.ReportMetric(float64(perStep.Milliseconds())/n, "per-step-ms")
			b.ReportMetric(perStep.Seconds()/series.Seconds(), "speedup")
		})
	}
}

// seedWalletMonth records n snapshots five minutes apart from start, and
// payouts evenly over them, every 100th failed with its return completed;
// it returns the snapshots' times.
func seedWalletMonth(b *testing.B, store *models.Store, clock *dbtest.Clock, start time.Time, n, payouts int) []time.Time {
	b.Helper()
	ctx := b.Context()
	span := time.Duration(n-1) * 5 * time.Minute
	times := make([]time.Time, n)
	err := store.Tx(ctx, func(tx *models.Store) error {
		for i := range n {
			w, err := tx.WalletSnapshotAdd(ctx, "bench", start.Add(time.Duration(i)*5*time.Minute), int64(1_000_000_000-i))
			if err != nil {
				return err
			}
			times[i] = w.TakenAt
		}
		for i := range payouts {
			at := start.Add(span * time.Duration(i) / time.Duration(payouts))
			clock.Set(at)
			p := &models.Payout{
				UserID: "u", Amount: models.Money{Cents: 10_000, Currency: "USD"}, MerchantFees: models.Money{Cents: 25, Currency: "USD"},
				Status: models.StatusPending, StatusAt: at, Source: models.OriginAPI, CoinflowTransaction: ptr(fmt.Sprintf("tx-%d", i)),
			}
			if err := tx.PayoutCreate(ctx, p, models.SourceAPI, nil); err != nil {
				return err
			}
			if i%100 == 0 {
				clock.Set(at.Add(time.Hour))
				ev := decide.Withdrawal{Source: models.SourceReconcile, Status: models.StatusFailed, At: at.Add(time.Hour), ReturnStatus: "return_completed"}
				if _, err := dbtest.Apply(ctx, tx, p.ID, ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return times
}

func ptr[T any](v T) *T { return &v }
