package bizday

import (
	"testing"
	"time"
)

func ny(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, NewYork)
}

func TestHolidays(t *testing.T) {
	for _, tc := range []struct {
		name string
		date time.Time
		want bool
	}{
		{"new year 2026 (Thursday)", ny(2026, 1, 1, 12, 0), true},
		{"MLK 2026", ny(2026, 1, 19, 12, 0), true},
		{"presidents 2026", ny(2026, 2, 16, 12, 0), true},
		{"memorial 2026", ny(2026, 5, 25, 12, 0), true},
		{"juneteenth 2026 (Friday)", ny(2026, 6, 19, 12, 0), true},
		{"independence 2027 is Sunday: observed Monday 5th", ny(2027, 7, 5, 12, 0), true},
		{"independence 2026 is Saturday: not moved to Friday", ny(2026, 7, 3, 12, 0), false},
		{"labor 2026", ny(2026, 9, 7, 12, 0), true},
		{"columbus 2026", ny(2026, 10, 12, 12, 0), true},
		{"veterans 2026", ny(2026, 11, 11, 12, 0), true},
		{"thanksgiving 2026", ny(2026, 11, 26, 12, 0), true},
		{"day after thanksgiving", ny(2026, 11, 27, 12, 0), false},
		{"christmas 2022 is Sunday: observed Monday 26th", ny(2022, 12, 26, 12, 0), true},
		{"ordinary tuesday", ny(2026, 11, 24, 12, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsHoliday(tc.date); got != tc.want {
				t.Fatalf("IsHoliday(%s) = %v, want %v", tc.date.Format(time.DateOnly), got, tc.want)
			}
		})
	}
}

func TestEndOfBusinessDayAndAdding(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
		n    int
		want time.Time
	}{
		{"weekday morning settles today", ny(2026, 11, 24, 9, 30), 0, ny(2026, 11, 24, 18, 0)},
		{"after the end hour settles next business day", ny(2026, 11, 24, 18, 30), 0, ny(2026, 11, 25, 18, 0)},
		{"wednesday evening skips thanksgiving", ny(2026, 11, 25, 19, 0), 0, ny(2026, 11, 27, 18, 0)},
		{"saturday settles monday", ny(2026, 11, 28, 10, 0), 0, ny(2026, 11, 30, 18, 0)},
		{"three business days from tuesday over thanksgiving", ny(2026, 11, 24, 9, 0), 3, ny(2026, 11, 30, 18, 0)},
		{"one business day from friday", ny(2026, 11, 20, 9, 0), 1, ny(2026, 11, 23, 18, 0)},
		{"UTC input near midnight is read in New York", time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), 0, ny(2026, 11, 24, 18, 0).AddDate(0, 0, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AddBusinessDays(tc.at, tc.n); !got.Equal(tc.want) {
				t.Fatalf("AddBusinessDays(%s, %d) = %s, want %s", tc.at, tc.n, got.In(NewYork), tc.want)
			}
		})
	}
}
