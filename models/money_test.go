package models

import (
	"errors"
	"math"
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
		{Money{math.MaxInt64, "USD"}, "92,233,720,368,547,758.07 USD"},
		{Money{math.MinInt64, "USD"}, "-92,233,720,368,547,758.08 USD"},
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
	if got, err := (Money{math.MaxInt64, "USD"}).Add(Money{1, "USD"}); !errors.Is(err, ErrOverflow) {
		t.Fatalf("max + 1 USD = %v, %v, want ErrOverflow", got, err)
	}
}

func TestCentsArithmetic(t *testing.T) {
	const maxC, minC = math.MaxInt64, math.MinInt64
	for _, tc := range []struct {
		name     string
		op       func(a, b int64) (int64, error)
		a, b     int64
		want     int64
		overflow bool
	}{
		{"add", AddCents, 2, 3, 5, false},
		{"add to the max", AddCents, maxC - 1, 1, maxC, false},
		{"add past the max", AddCents, maxC, 1, 0, true},
		{"add max and max", AddCents, maxC, maxC, 0, true},
		{"add to the min", AddCents, minC + 1, -1, minC, false},
		{"add past the min", AddCents, minC, -1, 0, true},
		{"add opposite signs", AddCents, maxC, minC, -1, false},
		{"sub", SubCents, 5, 3, 2, false},
		{"sub below zero", SubCents, 3, 5, -2, false},
		{"sub to the min", SubCents, -1, maxC, minC, false},
		{"sub past the min", SubCents, -2, maxC, 0, true},
		{"sub the min", SubCents, 0, minC, 0, true},
		{"sub the min from -1", SubCents, -1, minC, maxC, false},
		{"sub past the max", SubCents, maxC, -1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.op(tc.a, tc.b)
			if tc.overflow {
				if !errors.Is(err, ErrOverflow) {
					t.Fatalf("(%d, %d) = %d, %v; want ErrOverflow", tc.a, tc.b, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("(%d, %d) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
			}
		})
	}
}

func TestValidCurrency(t *testing.T) {
	for code, want := range map[string]bool{"USD": true, "EUR": true, "BRL": true, "usd": false, "XXX": false, "": false} {
		if got := ValidCurrency(code); got != want {
			t.Errorf("ValidCurrency(%q) = %v, want %v", code, got, want)
		}
	}
}
