package models

import (
	"errors"
	"testing"
)

func TestMoneyString(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
	}{
		{Money{0, "USD"}, "0.00 USD"},
		{Money{5, "USD"}, "0.05 USD"},
		{Money{25000, "USD"}, "250.00 USD"},
		{Money{100000001, "USD"}, "1,000,000.01 USD"},
		{Money{-123456, "EUR"}, "-1,234.56 EUR"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestMoneyAdd(t *testing.T) {
	sum, err := Money{}.Add(Money{150, "USD"})
	if err != nil || sum != (Money{150, "USD"}) {
		t.Fatalf("zero + 150 USD = %v, %v", sum, err)
	}
	sum, err = sum.Add(Money{2, "USD"})
	if err != nil || sum != (Money{152, "USD"}) {
		t.Fatalf("150 + 2 USD = %v, %v", sum, err)
	}
	if _, err := sum.Add(Money{1, "EUR"}); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("USD + EUR: err = %v, want ErrCurrencyMismatch", err)
	}
}

func TestValidCurrency(t *testing.T) {
	for code, want := range map[string]bool{"USD": true, "EUR": true, "BRL": true, "usd": false, "XXX": false, "": false} {
		if got := ValidCurrency(code); got != want {
			t.Errorf("ValidCurrency(%q) = %v, want %v", code, got, want)
		}
	}
}
