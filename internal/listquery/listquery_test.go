package listquery_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/listquery"
)

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
		ok   bool
	}{
		{"", false, true}, {"false", false, true}, {"true", true, true},
		{"yes", false, false}, {"1", false, false}, {"TRUE", false, false}, {" true", false, false},
	} {
		got, err := listquery.Bool(tc.in)
		require.Equal(t, tc.want, got, tc.in)
		if tc.ok {
			require.NoError(t, err, tc.in)
		} else {
			require.EqualError(t, err, listquery.BoolRule, tc.in)
		}
	}
}

func TestTime(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Time
		date, ok bool
	}{
		{"not given", "", time.Time{}, false, true},
		{"a date", "2025-06-05", time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC), true, true},
		{"UTC", "2025-06-05T10:30:00Z", time.Date(2025, 6, 5, 10, 30, 0, 0, time.UTC), false, true},
		{"an offset, in UTC", "2025-06-05T10:30:00+02:00", time.Date(2025, 6, 5, 8, 30, 0, 0, time.UTC), false, true},
		{"no such day", "2025-06-31", time.Time{}, false, false},
		{"words", "yesterday", time.Time{}, false, false},
		{"no zone", "2025-06-05T10:30:00", time.Time{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, date, err := listquery.Time(tc.in)
			if !tc.ok {
				require.EqualError(t, err, listquery.TimeRule)
				return
			}
			require.NoError(t, err)
			require.True(t, tc.want.Equal(got), "%s: got %s", tc.in, got)
			require.Equal(t, time.UTC, got.Location())
			require.Equal(t, tc.date, date)
		})
	}
}
