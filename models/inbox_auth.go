package models

import (
	"context"
	"fmt"
	"time"
)

// InboxAuthSince counts the events stored since since that were
// authenticated by method (AuthSignature or AuthAuthorization), and returns
// when the newest of them was received (zero when none). It is a range over
// the index inbox_events_auth (auth_method, received_at, id), read from the
// index alone.
func (s *Store) InboxAuthSince(ctx context.Context, method string, since time.Time) (int64, time.Time, error) {
	var n int64
	var last dbTime
	err := s.db.WithContext(ctx).
		Raw("SELECT COUNT(*), MAX(received_at) FROM inbox_events WHERE auth_method = ? AND received_at >= ?", method, since.UTC()).
		Row().Scan(&n, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count inbox events authenticated by %s: %w", method, translate(err))
	}
	return n, last.Time, nil
}
