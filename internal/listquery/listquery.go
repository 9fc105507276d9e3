// Package listquery holds the rules by which the API and the dashboard read
// the values of a list's query parameters, so that a filter takes the same
// values in both.
package listquery

import (
	"errors"
	"time"
)

// The rules, as the error messages name them after the parameter.
const (
	BoolRule = "must be true or false"
	TimeRule = "must be an RFC 3339 time or a YYYY-MM-DD date"
)

var (
	errBool = errors.New(BoolRule)
	errTime = errors.New(TimeRule)
)

// Bool reads a flag: "true" is true; "" (not given) and "false" are false.
func Bool(s string) (bool, error) {
	switch s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errBool
}

// Time reads an RFC 3339 time, in UTC, or a YYYY-MM-DD date, its midnight
// UTC; "" is the zero time. date reports whether s was a date.
func Time(s string) (t time.Time, date bool, err error) {
	if s == "" {
		return time.Time{}, false, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), false, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, errTime
}
