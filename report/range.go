package report

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// MaxDays is the longest range a report covers: a leap year.
const MaxDays = 366

// RangeError says what is wrong with a requested range, by bound: "from"
// and "to" (the API's parameter names, the CLI's flag names).
type RangeError struct {
	Fields map[string]string
}

func (e *RangeError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for name := range e.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + " " + e.Fields[name]
	}
	return "report range: " + strings.Join(parts, "; ")
}

// ParseRange reads a range given as two YYYY-MM-DD dates, from included
// and to excluded, and checks it as CheckRange does.
func ParseRange(from, to string) (time.Time, time.Time, error) {
	fields := map[string]string{}
	f := parseDate(fields, "from", from)
	t := parseDate(fields, "to", to)
	if len(fields) > 0 {
		return time.Time{}, time.Time{}, &RangeError{Fields: fields}
	}
	if err := CheckRange(f, t); err != nil {
		return time.Time{}, time.Time{}, err
	}
	return f, t, nil
}

func parseDate(fields map[string]string, name, s string) time.Time {
	if s == "" {
		fields[name] = "is required: a date like 2025-06-01"
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		fields[name] = "must be a date like 2025-06-01 (YYYY-MM-DD)"
		return time.Time{}
	}
	return d
}

// CheckRange checks that from and to are UTC midnights, from before to,
// at most MaxDays apart. The error is a *RangeError.
func CheckRange(from, to time.Time) error {
	fields := map[string]string{}
	for name, t := range map[string]time.Time{"from": from, "to": to} {
		if !t.Equal(day(t)) {
			fields[name] = "must be a UTC date (midnight)"
		}
	}
	switch {
	case len(fields) > 0:
	case !from.Before(to):
		fields["to"] = "must be after from (to is excluded: from 2025-06-01 to 2025-06-02 is one day)"
	case to.Sub(from) > MaxDays*24*time.Hour:
		fields["to"] = fmt.Sprintf("must be at most %d days after from", MaxDays)
	}
	if len(fields) > 0 {
		return &RangeError{Fields: fields}
	}
	return nil
}

// day is t's UTC date at midnight.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
