package rail_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/rail"
)

func TestSpeeds(t *testing.T) {
	for _, tc := range []struct {
		speed          string
		valid, instant bool
	}{
		{rail.ASAP, true, true},
		{rail.SameDay, true, false},
		{rail.Standard, true, false},
		{rail.Card, true, true},
		{rail.IBAN, true, false},
		{rail.PIX, true, true},
		{rail.EFT, true, false},
		{rail.Venmo, true, true},
		{rail.PayPal, true, true},
		{rail.Wire, true, false},
		{rail.Interac, true, true},
		{"", false, false},
		{"sepa", false, false},
		{"ASAP", false, false},
	} {
		t.Run("speed "+tc.speed, func(t *testing.T) {
			require.Equal(t, tc.valid, rail.Valid(tc.speed), "valid")
			require.Equal(t, tc.instant, rail.Instant(tc.speed), "instant")
		})
	}
	require.Equal(t, []string{"asap", "same_day", "standard", "card", "iban", "pix", "eft", "venmo", "paypal", "wire", "interac"},
		rail.Speeds(), "every WithdrawSpeed of the spec, in its order")
	s := rail.Speeds()
	s[0] = "changed"
	require.Equal(t, rail.ASAP, rail.Speeds()[0], "Speeds returns a copy")
}

func TestWindows(t *testing.T) {
	custom := rail.Windows{Instant: time.Hour, StandardBusinessDays: 5, OtherBusinessDays: 4}
	for _, tc := range []struct {
		name  string
		w     rail.Windows
		speed string
		want  rail.Window
	}{
		{"instant default", rail.Windows{}, rail.ASAP, rail.Window{Duration: 30 * time.Minute}},
		{"card is instant", rail.Windows{}, rail.Card, rail.Window{Duration: 30 * time.Minute}},
		{"interac is instant", rail.Windows{}, rail.Interac, rail.Window{Duration: 30 * time.Minute}},
		{"same_day ends with its business day", rail.Windows{}, rail.SameDay, rail.Window{EndOfBusinessDay: true}},
		{"standard default", rail.Windows{}, rail.Standard, rail.Window{BusinessDays: 3}},
		{"unknown speed is standard", rail.Windows{}, "", rail.Window{BusinessDays: 3}},
		{"iban default", rail.Windows{}, rail.IBAN, rail.Window{BusinessDays: 2}},
		{"eft default", rail.Windows{}, rail.EFT, rail.Window{BusinessDays: 2}},
		{"wire default", rail.Windows{}, rail.Wire, rail.Window{BusinessDays: 2}},
		{"a speed added later gets the others' window", rail.Windows{}, "cashapp", rail.Window{BusinessDays: 2}},
		{"instant configured", custom, rail.PIX, rail.Window{Duration: time.Hour}},
		{"standard configured", custom, rail.Standard, rail.Window{BusinessDays: 5}},
		{"other configured", custom, rail.Wire, rail.Window{BusinessDays: 4}},
		{"same_day ignores the configuration", custom, rail.SameDay, rail.Window{EndOfBusinessDay: true}},
		{"negative means default", rail.Windows{Instant: -time.Minute, StandardBusinessDays: -1}, rail.Venmo,
			rail.Window{Duration: rail.DefaultInstantWindow}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.w.Of(tc.speed))
		})
	}
	require.Equal(t, rail.Windows{Instant: 30 * time.Minute, StandardBusinessDays: 3, OtherBusinessDays: 2},
		rail.Windows{}.WithDefaults())
}

func TestNACHADowngrade(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		requested, effective, currency string
		cents                          int64
		want                           bool
	}{
		{"above the limit", rail.SameDay, rail.Standard, "USD", rail.NACHALimitCents + 1, true},
		{"the largest amount", rail.SameDay, rail.Standard, "USD", 1<<63 - 1, true},
		{"exactly the limit", rail.SameDay, rail.Standard, "USD", rail.NACHALimitCents, false},
		{"under the limit", rail.SameDay, rail.Standard, "USD", 250_000, false},
		{"not dollars", rail.SameDay, rail.Standard, "EUR", 2 * rail.NACHALimitCents, false},
		{"not requested same_day", rail.ASAP, rail.Standard, "USD", 2 * rail.NACHALimitCents, false},
		{"not paid standard", rail.SameDay, rail.Wire, "USD", 2 * rail.NACHALimitCents, false},
		{"as requested", rail.SameDay, rail.SameDay, "USD", 2 * rail.NACHALimitCents, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, rail.NACHADowngrade(tc.requested, tc.effective, tc.currency, tc.cents))
		})
	}
	require.EqualValues(t, 100_000_000, rail.NACHALimitCents, "$1,000,000 in cents")
}

func TestDestinationCurrencies(t *testing.T) {
	for _, tc := range []struct {
		d    rail.Destination
		want []string
	}{
		{rail.BankAccount, []string{"USD"}},
		{rail.DebitCard, []string{"USD"}},
		{rail.IBANAccount, []string{"EUR", "GBP"}},
		{rail.PIXKey, []string{"BRL"}},
		{rail.EFTAccount, []string{"CAD"}},
		{"venmo", nil},
	} {
		t.Run(string(tc.d), func(t *testing.T) {
			require.Equal(t, tc.want, rail.Currencies(tc.d))
			for _, c := range []string{"USD", "EUR", "GBP", "BRL", "CAD", "JPY"} {
				want := false
				for _, w := range tc.want {
					want = want || w == c
				}
				require.Equal(t, want, rail.PaysIn(tc.d, c), "%s pays in %s", tc.d, c)
			}
		})
	}
	require.Equal(t, []string{"USD", "EUR", "GBP", "BRL", "CAD"}, rail.PayoutCurrencies(), "Coinflow's WithdrawCurrency")
	c := rail.Currencies(rail.IBANAccount)
	c[0] = "XXX"
	require.Equal(t, []string{"EUR", "GBP"}, rail.Currencies(rail.IBANAccount), "Currencies returns a copy")
}
