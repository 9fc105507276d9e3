// Package bizday is business-day arithmetic for US bank rails: the Federal
// Reserve's holidays, weekends, and the ACH settlement day in New York time.
// ACH moves only on Fed business days, so a payout's delivery window is
// counted in them.
package bizday

import (
	"time"
	_ "time/tzdata" // New York's rules travel with the binary
)

// NewYork is the time zone the Fed's business day runs in.
var NewYork = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("bizday: load " + name + ": " + err.Error()) // embedded tzdata: cannot fail
	}
	return loc
}

// EndOfDayHour is when a business day's last ACH settlement is done, New
// York time (same-day ACH's last window settles at 6 p.m. ET).
const EndOfDayHour = 18

// IsHoliday reports whether the date (its year, month and day) is a Federal
// Reserve holiday as observed. A holiday on Sunday is observed Monday; one
// on Saturday is not moved (the Fed stays open the Friday before).
func IsHoliday(d time.Time) bool {
	y, m, day := d.Date()
	date := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	for _, h := range holidays(y) {
		if h.Equal(date) {
			return true
		}
	}
	return false
}

// IsBusinessDay reports whether the date is a weekday that is not a holiday.
func IsBusinessDay(d time.Time) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !IsHoliday(d)
}

// holidays are the observed Fed holidays of year y, as UTC midnights.
func holidays(y int) []time.Time {
	fixed := func(m time.Month, d int) time.Time {
		t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		if t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	return []time.Time{
		fixed(time.January, 1),
		nthWeekday(y, time.January, time.Monday, 3),    // Martin Luther King Jr. Day
		nthWeekday(y, time.February, time.Monday, 3),   // Washington's Birthday
		lastWeekday(y, time.May, time.Monday),          // Memorial Day
		fixed(time.June, 19),                           // Juneteenth
		fixed(time.July, 4),                            // Independence Day
		nthWeekday(y, time.September, time.Monday, 1),  // Labor Day
		nthWeekday(y, time.October, time.Monday, 2),    // Columbus Day
		fixed(time.November, 11),                       // Veterans Day
		nthWeekday(y, time.November, time.Thursday, 4), // Thanksgiving
		fixed(time.December, 25),
	}
}

func nthWeekday(y int, m time.Month, wd time.Weekday, n int) time.Time {
	t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	for t.Weekday() != wd {
		t = t.AddDate(0, 0, 1)
	}
	return t.AddDate(0, 0, 7*(n-1))
}

func lastWeekday(y int, m time.Month, wd time.Weekday) time.Time {
	t := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	for t.Weekday() != wd {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// EndOfBusinessDay is the end (EndOfDayHour, New York) of the business day
// on which something submitted at t settles: t's own day when t is a
// business day before the end hour, else the next business day.
func EndOfBusinessDay(t time.Time) time.Time {
	ny := t.In(NewYork)
	day := time.Date(ny.Year(), ny.Month(), ny.Day(), EndOfDayHour, 0, 0, 0, NewYork)
	if IsBusinessDay(day) && ny.Before(day) {
		return day.UTC()
	}
	return nextBusinessDayEnd(day).UTC()
}

// AddBusinessDays is the end of the n-th business day after the day t
// settles on (n = 0 is EndOfBusinessDay(t)).
func AddBusinessDays(t time.Time, n int) time.Time {
	end := EndOfBusinessDay(t).In(NewYork)
	for range n {
		end = nextBusinessDayEnd(end)
	}
	return end.UTC()
}

func nextBusinessDayEnd(day time.Time) time.Time {
	d := day
	for {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, EndOfDayHour, 0, 0, 0, NewYork)
		if IsBusinessDay(d) {
			return d
		}
	}
}
