package dashboard_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// An overview over stored amounts that add up past int64 is a 500 that
// says a stored amount is wrong, not 503 "database unavailable", whether
// the database's sum or the chart's total overflows; the log names the sum.
func TestOverviewOverflowingSumIs500(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rows func(now time.Time) []dbtest.RawPayout
		log  string
	}{
		{"a day's sum", func(now time.Time) []dbtest.RawPayout { return dbtest.OverflowingPayouts(now) },
			"sum payout volume: report payouts: sum of payout amounts overflows int64"},
		{"the window's total", func(now time.Time) []dbtest.RawPayout {
			half := dbtest.RawPayout{Cents: math.MaxInt64/2 + 1, Status: models.StatusCompleted}
			a, b := half, half
			a.ID, a.CreatedAt = "yesterday", now.Add(-24*time.Hour)
			b.ID, b.CreatedAt = "today", now
			return []dbtest.RawPayout{a, b}
		}, "sum payout volume: total overflows int64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachDB(t, func(t *testing.T, e *env) {
				dbtest.InsertPayouts(t, e.Store, tc.rows(e.Clock.Now())...)
				c := dashboardtest.Login(t, e.URL, token)
				resp := c.Get(t, "/")
				require.Equal(t, http.StatusInternalServerError, resp.Status)
				require.Contains(t, resp.Body, "Amounts too large")
				require.Contains(t, resp.Body, "a payout&#39;s amount is wrong")
				require.NotContains(t, resp.Body, "int64")
				require.NotContains(t, resp.Body, "Database unavailable")
				entry := e.Logs.LastEntry()
				require.NotNil(t, entry)
				require.Equal(t, logrus.ErrorLevel, entry.Level)
				require.EqualError(t, entry.Data[logrus.ErrorKey].(error), tc.log)
			})
		})
	}
}
