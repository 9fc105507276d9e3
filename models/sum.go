package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Sums of cents. amount_cents and the fee columns are BIGINT and hold what
// Coinflow sent, so a sum over them can pass int64. No sum may then wrap
// around into a wrong figure, nor fail in the driver's words:
//
//   - PostgreSQL sums BIGINT as numeric, which does not overflow, and
//     intoCents checks that the total fits in an int64.
//   - SQLite sums integers exactly and raises "integer overflow" when a
//     running total does not fit, which translate makes ErrOverflow. (Only
//     amounts of both signs near the limit could overflow on the way to a
//     total that fits; payout amounts and fees are not negative.)
//   - No query adds two columns row by row: PostgreSQL would fail with
//     "bigint out of range" and SQLite would silently make the row a float.
//     Each column is summed on its own and the sums added with AddCents.
//
// Every such failure is ErrOverflow, named by overflow after what was summed.

// overflow is ErrOverflow for a sum of what, e.g. "sum of payout amounts
// overflows int64".
func overflow(what string) error { return fmt.Errorf("sum of %s %w", what, ErrOverflow) }

// sumError is err from a query summing what: ErrOverflow, however the
// database said it, becomes overflow(what); anything else is translated.
func sumError(what string, err error) error {
	if err = translate(err); errors.Is(err, ErrOverflow) {
		return overflow(what)
	}
	return err
}

// intoCents scans a SUM of cents into *dst from either database: an int64
// from SQLite, numeric as text from PostgreSQL, NULL (no rows) as 0. A
// total outside int64 is ErrOverflow.
type intoCents struct{ dst *int64 }

func (c intoCents) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = 0
	case int64:
		*c.dst = v
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		// A float would mean a non-integer value was summed: never cents.
		return fmt.Errorf("scan sum of cents from %T", src)
	}
	return nil
}

func (c intoCents) parse(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return ErrOverflow
	case err != nil:
		return fmt.Errorf("scan sum of cents from %q", s)
	}
	*c.dst = n
	return nil
}

// sumRows runs a query whose rows carry sums of what (wrapped in intoCents
// by cols) and returns the rows scanned through cols.
func sumRows[R any](ctx context.Context, s *Store, what string, cols func(*R) []any, query string, args ...any) ([]R, error) {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, sumError(what, err)
	}
	defer rows.Close()
	var out []R
	for rows.Next() {
		var r R
		if err := rows.Scan(cols(&r)...); err != nil {
			return nil, sumError(what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, sumError(what, err)
	}
	return out, nil
}

// sumRow is sumRows for a query of one row, such as a SUM without GROUP BY.
func sumRow(ctx context.Context, s *Store, what string, query string, args []any, dst ...any) error {
	if err := s.db.WithContext(ctx).Raw(query, args...).Row().Scan(dst...); err != nil {
		return sumError(what, err)
	}
	return nil
}
