package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PruneCursor is where body pruning stands in the inbox's (received_at, id)
// order: every event at or before it has been looked at. The zero cursor is
// the start.
type PruneCursor struct {
	ReceivedAt time.Time
	ID         int64
}

// PruneBatch is what one InboxPruneBodies statement did.
type PruneBatch struct {
	Next    PruneCursor // the cursor to pass next
	Pruned  int64       // bodies cleared
	Scanned int         // index entries the batch covered (at most its limit)
	Done    bool        // no event received before the cutoff lies after Next
}

// InboxPruneBodies clears the bodies of the events among the next limit
// received before cutoff after cur, in (received_at, id) order, of events
// that are done with: applied, or ignored without a note (an untracked
// type). Pending, parked and unprocessable events, and ignored ones with a
// note (a rail event that named no payout yet), keep theirs: the applier
// or a replay after a fix still needs them. The row stays, with its dedup key (a late
// redelivery is still a duplicate), content hash, state and subject: only
// body becomes empty and body_pruned_at is set.
//
// Each call is two short statements outside any transaction: an index-only
// read of the inbox_events_received index that finds the window's last
// entry, then one UPDATE of at most limit rows in that window. It takes row
// locks on those rows only (never the pending rows ingestion and the applier
// write), so it never blocks ingestion; the work of one call is bounded by
// limit however many bodies were pruned before.
func (s *Store) InboxPruneBodies(ctx context.Context, cur PruneCursor, cutoff time.Time, limit int) (PruneBatch, error) {
	if limit < 1 {
		return PruneBatch{}, fmt.Errorf("prune inbox bodies: limit %d", limit)
	}
	cutoff = cutoff.UTC()
	db := s.db.WithContext(ctx)
	// The window's last entry, the limit-th after the cursor, and how many
	// entries the window holds: fewer than limit means it runs to the
	// cutoff and this is the last batch.
	var last dbTime
	var lastID, n int64
	err := db.Raw("SELECT received_at, id, COUNT(*) OVER () FROM (SELECT received_at, id FROM inbox_events "+
		"WHERE (received_at, id) > (?, ?) AND received_at < ? ORDER BY received_at, id LIMIT ?) w "+
		"ORDER BY received_at DESC, id DESC LIMIT 1", cur.ReceivedAt.UTC(), cur.ID, cutoff, limit).Row().Scan(&last, &lastID, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return PruneBatch{Next: cur, Done: true}, nil
	}
	if err != nil {
		return PruneBatch{}, fmt.Errorf("prune inbox bodies: find window: %w", translate(err))
	}
	next := PruneCursor{ReceivedAt: last.Time, ID: lastID}
	res := db.Exec("UPDATE inbox_events SET body = "+s.emptyBlob()+", body_pruned_at = ? "+
		"WHERE (received_at, id) > (?, ?) AND (received_at, id) <= (?, ?) AND received_at < ? "+
		"AND body_pruned_at IS NULL AND (status = ? OR (status = ? AND last_error IS NULL))",
		s.Now(), cur.ReceivedAt.UTC(), cur.ID, next.ReceivedAt, next.ID, cutoff, InboxApplied, InboxIgnored)
	if res.Error != nil {
		return PruneBatch{}, fmt.Errorf("prune inbox bodies: %w", translate(res.Error))
	}
	return PruneBatch{Next: next, Pruned: res.RowsAffected, Scanned: int(n), Done: n < int64(limit)}, nil
}

// emptyBlob is an empty body as a literal (body is NOT NULL).
func (s *Store) emptyBlob() string {
	if s.dialect == DialectPostgres {
		return "''::bytea"
	}
	return "X''"
}

// InboxPrunedBodies counts events whose body retention has cleared.
func (s *Store) InboxPrunedBodies(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM inbox_events WHERE body_pruned_at IS NOT NULL").Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("count pruned inbox bodies: %w", translate(err))
	}
	return n, nil
}
