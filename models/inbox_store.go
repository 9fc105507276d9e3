package models

import (
	"context"
	"fmt"
	"time"
)

// InboxInsert stores events in one statement (one commit, one fsync) with
// INSERT ... ON CONFLICT (dedup_key) DO NOTHING, and reports for each event
// whether it was new. When it returns nil every event is durably stored: new,
// or already there from an earlier commit. A redelivery whose ContentHash
// differs from the stored copy's is kept as well, as a conflicting copy
// (see InboxEvent.ConflictsWith), and counts as new. The ID of each event
// stored now is set in evs.
func (s *Store) InboxInsert(ctx context.Context, evs []InboxEvent) ([]bool, error) {
	out, err := s.inboxInsert(ctx, evs)
	if err != nil {
		return nil, err
	}
	var again []int
	for i := range evs {
		if !out[i] && evs[i].ContentHash != nil {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return out, nil
	}
	return out, s.inboxKeepConflicting(ctx, evs, again, out)
}

// inboxKeepConflicting stores, beside the copy stored first, each event of
// idx whose content differs from it, under its key and content hash (so a
// retry of the conflicting copy is itself a duplicate). It sets out[i] for
// those it stored.
func (s *Store) inboxKeepConflicting(ctx context.Context, evs []InboxEvent, idx []int, out []bool) error {
	keys := make([]string, 0, len(idx))
	for _, i := range idx {
		keys = append(keys, evs[i].DedupKey)
	}
	var stored []InboxEvent
	if err := s.db.WithContext(ctx).Select("id", "dedup_key", "content_hash").Where("dedup_key IN ?", keys).Find(&stored).Error; err != nil {
		return fmt.Errorf("read stored inbox events: %w", translate(err))
	}
	byKey := make(map[string]InboxEvent, len(stored))
	for _, ev := range stored {
		byKey[ev.DedupKey] = ev
	}
	var copies []InboxEvent
	var at []int
	for _, i := range idx {
		first, ok := byKey[evs[i].DedupKey]
		if !ok || first.ContentHash == nil || *first.ContentHash == *evs[i].ContentHash {
			continue
		}
		c := evs[i]
		c.DedupKey = evs[i].DedupKey + "#" + *evs[i].ContentHash
		c.ConflictsWith = &first.ID
		copies = append(copies, c)
		at = append(at, i)
	}
	if len(copies) == 0 {
		return nil
	}
	ins, err := s.inboxInsert(ctx, copies)
	if err != nil {
		return err
	}
	for j, i := range at {
		out[i] = ins[j]
		if ins[j] {
			evs[i].ID = copies[j].ID
		}
	}
	return nil
}

func (s *Store) inboxInsert(ctx context.Context, evs []InboxEvent) ([]bool, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	now := s.Now()
	q, args := multiInsert(
		"INSERT INTO inbox_events (dedup_key, event_type, body, received_at, status, attempts, next_attempt_at, content_hash, conflicts_with, "+
			"auth_method, auth_key, subject_transaction, subject_user_id)",
		"(?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?)", "ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key", len(evs),
		func(i int) []any {
			ev := &evs[i]
			return []any{ev.DedupKey, ev.EventType, ev.Body, now, now, ev.ContentHash, ev.ConflictsWith,
				ev.AuthMethod, ev.AuthKey, ev.SubjectTransaction, ev.SubjectUserID}
		})

	// One statement is atomic on its own: no BEGIN/COMMIT round trips.
	inserted := make(map[string]int64, len(evs))
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("insert %d inbox events: %w", len(evs), translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k string
		if err := rows.Scan(&id, &k); err != nil {
			return nil, fmt.Errorf("insert %d inbox events: %w", len(evs), translate(err))
		}
		inserted[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert %d inbox events: %w", len(evs), translate(err))
	}
	out := make([]bool, len(evs))
	for i := range evs {
		// Two deliveries of one event in the same batch: the first is new.
		if id, ok := inserted[evs[i].DedupKey]; ok {
			out[i], evs[i].ID = true, id
			delete(inserted, evs[i].DedupKey)
		}
	}
	return out, nil
}

// InboxClaim selects up to limit due pending events, oldest first, and on
// PostgreSQL locks them with FOR UPDATE SKIP LOCKED so that several payoutd
// processes share one inbox without taking the same event. Call it in Tx.
//
// The claim looks at a window of ids from the oldest pending event on
// (claimWindow batches' worth), and past it only when the window did not
// fill the batch (events waiting for a retry, or taken by other appliers).
// Asking for "the first n pending events" alone leaves PostgreSQL to choose
// between walking the pending index in order and sorting every pending
// row, and statistics taken before a burst say there are few: it sorted a
// 30,000-event backlog on disk for each batch of 100. Within the window
// either plan reads at most the window.
func (s *Store) InboxClaim(ctx context.Context, limit int) ([]InboxEvent, error) {
	var lo *int64
	if err := s.db.WithContext(ctx).Raw("SELECT MIN(id) FROM inbox_events WHERE status = 'pending'").Row().Scan(&lo); err != nil {
		return nil, fmt.Errorf("claim inbox events: %w", translate(err))
	}
	if lo == nil {
		return nil, nil
	}
	hi := *lo + int64(claimWindow*limit)
	evs, err := s.inboxClaimRange(ctx, "id >= ? AND id < ?", []any{*lo, hi}, limit)
	if err != nil || len(evs) == limit {
		return evs, err
	}
	more, err := s.inboxClaimRange(ctx, "id >= ?", []any{hi}, limit-len(evs))
	return append(evs, more...), err
}

// claimWindow is how many batches' worth of ids a claim looks at first:
// enough for the appliers of a few processes to each find a batch there.
const claimWindow = 8

func (s *Store) inboxClaimRange(ctx context.Context, ids string, args []any, limit int) ([]InboxEvent, error) {
	q := "SELECT * FROM inbox_events WHERE status = 'pending' AND next_attempt_at <= ? AND " + ids + " ORDER BY id LIMIT ?"
	if s.dialect == DialectPostgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	var evs []InboxEvent
	if err := s.db.WithContext(ctx).Raw(q, append(append([]any{s.Now()}, args...), limit)...).Scan(&evs).Error; err != nil {
		return nil, fmt.Errorf("claim inbox events: %w", translate(err))
	}
	return evs, nil
}

// InboxFinish records the outcome of processing event id.
func (s *Store) InboxFinish(ctx context.Context, id int64, status InboxStatus, reason string) error {
	res := s.db.WithContext(ctx).Model(&InboxEvent{}).Where("id = ? AND status = ?", id, InboxPending).
		Updates(map[string]any{"status": status, "processed_at": s.Now(), "last_error": NonEmpty(reason)})
	if res.Error != nil {
		return fmt.Errorf("finish inbox event %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("finish inbox event %d: %w", id, ErrConflict)
	}
	return nil
}

// InboxFinishMany records one outcome for several events at once.
func (s *Store) InboxFinishMany(ctx context.Context, ids []int64, status InboxStatus) error {
	if len(ids) == 0 {
		return nil
	}
	res := s.db.WithContext(ctx).Model(&InboxEvent{}).Where("id IN ? AND status = ?", ids, InboxPending).
		Updates(map[string]any{"status": status, "processed_at": s.Now()})
	if res.Error != nil {
		return fmt.Errorf("finish %d inbox events: %w", len(ids), translate(res.Error))
	}
	if res.RowsAffected != int64(len(ids)) {
		return fmt.Errorf("finish %d inbox events: %d changed: %w", len(ids), res.RowsAffected, ErrConflict)
	}
	return nil
}

// InboxRetryLater counts a failed attempt and schedules the next one.
func (s *Store) InboxRetryLater(ctx context.Context, id int64, attempts int, next time.Time, reason string) error {
	err := s.db.WithContext(ctx).Model(&InboxEvent{}).Where("id = ? AND status = ?", id, InboxPending).
		Updates(map[string]any{"attempts": attempts, "next_attempt_at": next.UTC(), "last_error": reason}).Error
	if err != nil {
		return fmt.Errorf("reschedule inbox event %d: %w", id, translate(err))
	}
	return nil
}

// InboxGet loads one event.
func (s *Store) InboxGet(ctx context.Context, id int64) (*InboxEvent, error) {
	return first[InboxEvent](s.db.WithContext(ctx).Where("id = ?", id), fmt.Sprintf("inbox event %d", id))
}

// InboxBacklog counts pending events and returns the oldest one's receipt
// time (zero when there is none).
func (s *Store) InboxBacklog(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest dbTime
	err := s.db.WithContext(ctx).Raw("SELECT COUNT(*), MIN(received_at) FROM inbox_events WHERE status = 'pending'").
		Row().Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count inbox backlog: %w", translate(err))
	}
	return n, oldest.Time, nil
}

// InboxCounts returns the number of stored events by status.
func (s *Store) InboxCounts(ctx context.Context) (map[InboxStatus]int64, error) {
	var rows []struct {
		Status InboxStatus
		N      int64
	}
	if err := s.db.WithContext(ctx).Raw("SELECT status, COUNT(*) AS n FROM inbox_events GROUP BY status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count inbox events: %w", translate(err))
	}
	out := map[InboxStatus]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
