package dashboard

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/models"
)

func TestDurationWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                "0 seconds",
		1500 * time.Millisecond:          "1.5 seconds",
		time.Second:                      "1 second",
		42 * time.Second:                 "42 seconds",
		177 * time.Second:                "2 minutes 57 seconds",
		time.Hour:                        "1 hour",
		time.Hour + 30*time.Second:       "1 hour",
		80 * time.Hour:                   "3 days 8 hours",
		72*time.Hour + 5*time.Minute:     "3 days",
		25*time.Hour + 61*time.Minute:    "1 day 2 hours",
		-90 * time.Second:                "-1 minute 30 seconds",
		90*24*time.Hour + 59*time.Minute: "90 days",
	} {
		require.Equal(t, want, durationWords(d), d.String())
	}
}

// Details as the reconciler writes them, read back from their JSON as the
// store gives them, read as finance reads them.
func TestFindingDetailsInWords(t *testing.T) {
	long := "sig5VfYt3kqGw9ZxR2mNb7LpQ4s5VfYt3kqGw9ZxR2mNb7LpQ4s"
	stored := func(d models.Details) models.Details {
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var out models.Details
		require.NoError(t, out.Scan(string(b)))
		return out
	}
	text := func(ds []detail) map[string]string {
		out := map[string]string{}
		for _, d := range ds {
			out[d.Label] = d.Value.Text
		}
		return out
	}
	deadline := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	stuck := findingDetails(stored(models.Details{
		"status": "in_review", "deadline": deadline, "deadline_basis": "window:same_day", "overdue_seconds": 177,
		"amount": models.Money{Cents: 123456, Currency: "EUR"},
	}))
	require.Equal(t, map[string]string{
		"Status": "in review", "Due by": "2026-03-04 05:06:07\u00a0UTC", "Due date from": "the same day delivery window",
		"Overdue by": "2 minutes 57 seconds", "Amount": "1,234.56 EUR",
	}, text(stuck))
	require.Equal(t, "Amount", stuck[0].Label, "money first")

	wallet := text(findingDetails(stored(models.Details{
		"balance_cents": int64(374774602), "floor_cents": 500000000, "in_flight_cents": 0, "in_flight_unpriced_payouts": 2,
		"explained_by": models.Details{"payouts_cents": -6000, "merchant_fees_cents": -25},
	})))
	require.Equal(t, map[string]string{
		"Wallet balance": "3,747,746.02 USD", "Low-balance floor": "5,000,000.00 USD", "Owed to payouts in flight": "0.00 USD",
		"Foreign payouts not priced yet": "2", "by payouts": "-60.00 USD", "by merchant fees": "-0.25 USD",
	}, wallet)

	mismatch := findingDetails(stored(models.Details{
		"reason": "terminal_status_changed", "inbox_event_id": 41, "local": models.Money{Cents: 6000, Currency: "USD"},
		"coinflow": models.Money{Cents: 6100, Currency: "USD"}, "transaction": long, "expected": true,
		"differs": []string{"total", "userFees"}, "pending_for": "80h0m0s",
	}))
	got := text(mismatch)
	require.Equal(t, "Coinflow changed a payout it had finished", got["Why"])
	require.Equal(t, "message 41", got["Coinflow message"])
	require.Equal(t, "60.00 USD", got["In payoutd"])
	require.Equal(t, "61.00 USD", got["At Coinflow"])
	require.Equal(t, "yes", got["Expected"])
	require.Equal(t, "amount, user fees", got["Differs in"])
	require.Equal(t, "3 days 8 hours", got["Waiting for"])
	for _, d := range mismatch {
		switch d.Label {
		case "Coinflow transaction":
			require.Equal(t, long, d.Value.Full, "the whole value for hover and copy")
			require.Less(t, len([]rune(d.Value.Text)), 30)
		case "Coinflow message":
			require.Equal(t, "/events/41", d.Value.Href)
		}
	}
	for _, v := range got {
		require.NotContains(t, v, "cents")
		require.NotContains(t, v, "{")
	}
}
