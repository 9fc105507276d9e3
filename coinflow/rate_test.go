package coinflow_test

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

func TestUSDDebit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cents    int64
		currency string
		rate     json.Number
		want     int64
	}{
		{"USD is its own debit", 12_345, "USD", "", 12_345},
		{"USD ignores the rate", 12_345, "USD", "0.5", 12_345},
		{"USD ignores a bad rate", 12_345, "USD", "abc", 12_345},
		{"whole", 10_000, "GBP", "0.90", 9_000},
		{"rate 1", 10_000, "EUR", "1", 10_000},
		{"exponent", 10_000, "GBP", "9e-1", 9_000},
		{"exponent with sign", 10_000, "GBP", "1.27E+0", 12_700},
		{"half rounds up", 3, "GBP", "0.5", 2},
		{"half rounds up, small", 5, "EUR", "0.1", 1},
		{"under half rounds down", 4, "EUR", "0.1", 0},
		{"just under half", 14_999, "EUR", "0.0001", 1},
		{"just over half", 15_001, "EUR", "0.0001", 2},
		{"negative half rounds away from zero", -3, "GBP", "0.5", -2},
		{"negative under half", -4, "GBP", "0.1", 0},
		// float64 makes 100 × 1.005 = 100.49999999999999, which would round to 100.
		{"exact where float64 is not", 100, "EUR", "1.005", 101},
		{"realistic BRL", 123_456_789, "BRL", "0.18123", 22_374_074},
		{"realistic GBP", 987_654_321, "GBP", "1.2731", 1_257_382_716},
		{"large rate", 100, "XAU", "3345.12", 334_512},
		{"tiny rate", 1_000_000_000, "VND", "0.0000393", 39_300},
		{"zero amount", 0, "GBP", "1.27", 0},
		{"the largest debit", math.MaxInt64, "EUR", "1", math.MaxInt64},
		{"the largest debit, rounded", math.MaxInt64 - 1, "EUR", "1.0000000000000000001", math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := coinflow.USDDebit(coinflow.CurrencyCents{Cents: tc.cents, Currency: tc.currency}, tc.rate)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestUSDDebitErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cents    int64
		currency string
		rate     json.Number
	}{
		{"missing rate", 100, "GBP", ""},
		{"zero rate", 100, "GBP", "0"},
		{"zero rate, decimals", 100, "GBP", "0.000"},
		{"negative rate", 100, "GBP", "-1.27"},
		{"not a number", 100, "GBP", "abc"},
		{"a fraction big.Rat would read", 100, "GBP", "1/3"},
		{"hex", 100, "GBP", "0x10"},
		{"space", 100, "GBP", " 1.2"},
		{"NaN", 100, "GBP", "NaN"},
		{"Inf", 100, "GBP", "Inf"},
		{"huge exponent", 100, "GBP", "1e1000000000"},
		{"tiny exponent", 100, "GBP", "1e-31"},
		{"too long", 100, "GBP", json.Number("0." + strings.Repeat("1", 70))},
		{"overflow", math.MaxInt64, "EUR", "2"},
		{"overflow by rounding", math.MaxInt64, "EUR", "1.0000000000000000001"},
		{"negative overflow", math.MinInt64, "EUR", "1.5"},
		{"no currency", 100, "", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := coinflow.USDDebit(coinflow.CurrencyCents{Cents: tc.cents, Currency: tc.currency}, tc.rate)
			require.Error(t, err)
			require.Zero(t, got)
		})
	}
}

func TestWithdrawExchangeRate(t *testing.T) {
	t.Parallel()
	for rate, want := range map[string]string{
		"0.90":      "0.9",
		"1.0":       "1",
		"1":         "1",
		"100":       "100",
		"1E2":       "100",
		"9e-1":      "0.9",
		"1.2700":    "1.27",
		"0.000063":  "0.000063",
		"6.3e-5":    "0.000063",
		"1.0000001": "1.0000001",
		`"0.90"`:    "0.9", // a rate sent as a string
	} {
		var w coinflow.Withdraw
		require.NoError(t, json.Unmarshal([]byte(`{"transaction":"tx","usdToForeignExchangeRate":`+rate+`}`), &w), rate)
		got, ok := w.ExchangeRate()
		require.True(t, ok, rate)
		require.Equal(t, want, got, rate)
		// The normalised rate reads back as the same number.
		a, err := coinflow.USDDebit(coinflow.CurrencyCents{Cents: 1_000_000, Currency: "GBP"}, json.Number(strings.Trim(rate, `"`)))
		require.NoError(t, err)
		b, err := coinflow.USDDebit(coinflow.CurrencyCents{Cents: 1_000_000, Currency: "GBP"}, json.Number(got))
		require.NoError(t, err)
		require.Equal(t, a, b, rate)
	}
	for _, rate := range []string{``, `0`, `-0.5`, `0.0`, `x`, `1/3`, `1e99`} {
		w := coinflow.Withdraw{UsdToForeignExchangeRate: json.Number(rate)}
		got, ok := w.ExchangeRate()
		require.False(t, ok, strconv.Quote(rate))
		require.Empty(t, got)
	}
	var w coinflow.Withdraw
	require.NoError(t, json.Unmarshal([]byte(`{"transaction":"tx"}`), &w))
	_, ok := w.ExchangeRate()
	require.False(t, ok, "no rate")
}
