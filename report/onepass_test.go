package report_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
)

// randomPayouts writes n payouts with random attributes, every one the
// report distinguishes drawn from a few values each (NULL among them),
// created over [from - 1 day, to + 1 day) with the range's edges and
// midnights drawn often.
func randomPayouts(t *testing.T, store *models.Store, rng *rand.Rand, n int, from, to time.Time) {
	t.Helper()
	pick := func(vs ...any) any { return vs[rng.IntN(len(vs))] }
	span := to.Sub(from) + 48*time.Hour
	var (
		values []string
		args   []any
	)
	flush := func() {
		if len(values) == 0 {
			return
		}
		err := store.DB().WithContext(t.Context()).Exec(`INSERT INTO payouts (id, user_id, amount_cents, amount_currency,
  requested_speed, effective_speed, status, status_detail, status_at, return_status, coinflow_transaction,
  user_fees_cents, user_fees_currency, merchant_fees_cents, merchant_fees_currency, source, created_at, updated_at,
  wallet_debit_cents) VALUES `+strings.Join(values, ", "), args...).Error
		require.NoError(t, err)
		values, args = values[:0], args[:0]
	}
	for i := range n {
		var created time.Time
		switch rng.IntN(6) {
		case 0: // a midnight, or the microsecond before it
			d := from.AddDate(0, 0, rng.IntN(int(span/(24*time.Hour)))-1)
			created = d.Add(-time.Duration(rng.IntN(2)) * time.Microsecond)
		default:
			created = from.Add(-24*time.Hour + time.Duration(rng.Int64N(int64(span))).Truncate(time.Microsecond))
		}
		currency := pick("USD", "USD", "USD", "EUR", "GBP", "BRL").(string)
		requested := pick(nil, "same_day", "same_day", "standard", "asap", "iban")
		effective := pick(nil, requested, requested, "standard", "same_day")
		cents := pick(int64(1), int64(250_000), int64(100_000_000), int64(100_000_001), int64(150_000_000), rng.Int64N(10_000_000)).(int64)
		feeCurrency := func() any { return pick(currency, currency, "", "USD") }
		var tx any
		if rng.IntN(5) > 0 {
			tx = fmt.Sprintf("tx-%d", i)
		}
		values = append(values, "(?, 'u', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'api', ?, ?, ?)")
		args = append(args, fmt.Sprintf("p-%05d", i), cents, currency, requested, effective,
			pick("requested", "unknown", "pending", "in_review", "completed", "completed", "failed", "failed"),
			pick(nil, nil, nil, models.DetailUnclaimed), created,
			pick(nil, nil, nil, models.ReturnStatusPending, models.ReturnStatusCompleted, "return_failed"), tx,
			pick(int64(0), int64(0), int64(50), rng.Int64N(1_000)), feeCurrency(),
			pick(int64(0), int64(25), rng.Int64N(5_000)), feeCurrency(),
			created, created, pick(nil, nil, int64(0), rng.Int64N(200_000_000)))
		if len(values) == 100 {
			flush()
		}
	}
	flush()
}

// The one pass gives the sections the rows the query per section gave, on
// random payouts of every kind the report tells apart. The seed is logged,
// so that a failure can be replayed by setting it here.
func TestOnePassEqualsTheQueryPerSection(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 4)
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		rng := rand.New(rand.NewPCG(seed, seed))
		randomPayouts(t, store, rng, 1500, from, to)
		for _, r := range []struct{ from, to time.Time }{
			{from, to}, {from.AddDate(0, 0, 1), from.AddDate(0, 0, 2)}, {from.AddDate(0, 0, -1), to.AddDate(0, 0, 1)},
		} {
			s, err := report.Build(t.Context(), store, r.from, r.to)
			require.NoError(t, err)
			requireSameAsMultiQuery(t, s, queryMultiQuery(t.Context(), t, store, r.from, r.to))
		}
	})
}
