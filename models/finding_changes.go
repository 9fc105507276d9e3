package models

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// FindingMark is how far a reader of findings has read their changes: a
// change that alerts act on (a finding opened, acknowledged or resolved;
// not a run seeing it again) sets the finding's change_seq (migration 008),
// and a list given a mark returns only the findings changed since.
// The zero FindingMark is before every change.
//
// A watermark on a time or on a sequence number would miss changes: both
// are taken before the change commits, so a transaction that commits after
// a reader's sweep can carry a time or number below what that sweep read up
// to, and the next sweep, reading from there on, never sees it. The mark
// is therefore the reader's snapshot, not the largest number it saw:
//
//   - PostgreSQL: change_seq is the id of the transaction that made the
//     change. A snapshot says which transactions had ended when it was taken:
//     every id below its xmax except those in its in-progress list. A
//     change by one of those ended transactions was committed (or rolled
//     back) before the mark, so every later statement sees it; the changes
//     that may appear later are those of ids at or above xmax and of the
//     in-progress ones. The next read takes exactly those. The overlap is
//     the changes of transactions that ran across the mark: read once more,
//     never missed.
//   - SQLite: one writer at a time. change_seq comes from a counter bumped
//     inside the writing transaction, so numbers follow commit order: the
//     mark is the next number, and a change committed after it gets that
//     number or a higher one.
type FindingMark struct {
	next       int64   // change_seq from here on is after the mark
	inProgress []int64 // PostgreSQL: transactions running at the mark, whose changes may commit after it
}

// FindingMarkNow is the mark of the changes committed now. A reader takes
// it before it reads, and reads from it on next time.
func (s *Store) FindingMarkNow(ctx context.Context) (FindingMark, error) {
	if s.dialect != DialectPostgres {
		var m FindingMark
		if err := s.db.WithContext(ctx).Raw("SELECT seq + 1 FROM finding_change_clock").Row().Scan(&m.next); err != nil {
			return FindingMark{}, fmt.Errorf("mark finding changes: %w", translate(err))
		}
		return m, nil
	}
	rows, err := s.db.WithContext(ctx).Raw(`SELECT pg_snapshot_xmax(s)::text::bigint, x::text::bigint
FROM pg_current_snapshot() s LEFT JOIN LATERAL pg_snapshot_xip(s) x ON true`).Rows()
	if err != nil {
		return FindingMark{}, fmt.Errorf("mark finding changes: %w", translate(err))
	}
	defer rows.Close()
	var m FindingMark
	for rows.Next() {
		var running sql.NullInt64
		if err := rows.Scan(&m.next, &running); err != nil {
			return FindingMark{}, fmt.Errorf("mark finding changes: %w", translate(err))
		}
		if running.Valid {
			m.inProgress = append(m.inProgress, running.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return FindingMark{}, fmt.Errorf("mark finding changes: %w", translate(err))
	}
	return m, nil
}

// changedSince narrows q to the findings changed after m, through the
// index on change_seq.
func changedSince(q *gorm.DB, m FindingMark) *gorm.DB {
	if len(m.inProgress) == 0 {
		return q.Where("findings.change_seq >= ?", m.next)
	}
	return q.Where("(findings.change_seq >= ? OR findings.change_seq IN ?)", m.next, m.inProgress)
}
