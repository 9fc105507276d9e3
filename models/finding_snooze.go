package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Bounds of a snooze: it ends in the future, at most MaxSnooze after now,
// and its note says why in at most MaxSnoozeNote bytes.
const (
	MaxSnooze     = 90 * 24 * time.Hour
	MaxSnoozeNote = 2000
	maxSnoozedBy  = 200
)

// ErrInvalidSnooze is returned for a snooze that SnoozeProblems refuses.
var ErrInvalidSnooze = errors.New("invalid snooze")

// SnoozeProblems checks a snooze asked for at now, by field name ("until",
// "note"), in words a person can act on; none when it is good. The API and
// the dashboard show them; FindingSnooze refuses what they name.
func SnoozeProblems(now, until time.Time, note string) map[string]string {
	out := map[string]string{}
	switch {
	case until.IsZero():
		out["until"] = "is required"
	case !until.After(now):
		out["until"] = "must be in the future"
	case until.Sub(now) > MaxSnooze:
		out["until"] = "must be at most 90 days ahead"
	}
	switch note = strings.TrimSpace(note); {
	case note == "":
		out["note"] = "is required: say why the finding can wait"
	case len(note) > MaxSnoozeNote:
		out["note"] = "must be at most 2000 bytes"
	}
	return out
}

// FindingSnooze snoozes the unresolved finding id until then, recording
// who and the note, and returns it. Snoozing again replaces the snooze.
// ErrInvalidSnooze (wrapping the problems) for a snooze SnoozeProblems
// refuses at the store's clock; ErrNotFound for an unknown id; ErrConflict
// for a resolved finding.
//
// A snooze changes neither the status nor what alerts read as a change:
// the finding stays open or acknowledged, a run that sees its condition
// still updates last_seen_at, and one that does not resolves it as usual.
// Resolving ends the snooze; if the condition comes back, it is a new
// finding, not snoozed.
func (s *Store) FindingSnooze(ctx context.Context, id string, until time.Time, who, note string) (*Finding, error) {
	now := s.Now()
	note = strings.TrimSpace(note)
	if p := SnoozeProblems(now, until, note); len(p) > 0 {
		return nil, fmt.Errorf("snooze finding %s: %s: %w", id, joinProblems(p), ErrInvalidSnooze)
	}
	if who = strings.TrimSpace(who); who == "" || len(who) > maxSnoozedBy {
		return nil, fmt.Errorf("snooze finding %s: who must be 1 to %d bytes: %w", id, maxSnoozedBy, ErrInvalidSnooze)
	}
	res := s.db.WithContext(ctx).Model(&Finding{}).Where("id = ? AND resolved_at IS NULL", id).
		Updates(map[string]any{"snoozed_until": until.UTC(), "snooze_note": note, "snoozed_by": who, "snoozed_at": now})
	if res.Error != nil {
		return nil, fmt.Errorf("snooze finding %s: %w", id, translate(res.Error))
	}
	f, err := s.FindingGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 {
		return f, fmt.Errorf("snooze finding %s: already resolved: %w", id, ErrConflict)
	}
	return f, nil
}

func joinProblems(p map[string]string) string {
	parts := make([]string, 0, len(p))
	for _, k := range []string{"until", "note"} {
		if v, ok := p[k]; ok {
			parts = append(parts, k+" "+v)
		}
	}
	return strings.Join(parts, "; ")
}

// snoozedAt narrows q to the unresolved findings snoozed at now, or, when
// snoozed is false, to those that are not.
func snoozedAt(q *gorm.DB, now time.Time, snoozed bool) *gorm.DB {
	if snoozed {
		return q.Where("resolved_at IS NULL AND snoozed_until > ?", now.UTC())
	}
	return q.Where("(snoozed_until IS NULL OR snoozed_until <= ?)", now.UTC())
}

// FindingTally is how many unresolved findings share a kind, severity and
// status (open or acknowledged): Awake of them are not snoozed, Snoozed are.
type FindingTally struct {
	Kind     FindingKind
	Severity Severity
	Status   FindingStatus
	Awake    int64
	Snoozed  int64
}

// FindingTallyUnresolved counts the unresolved findings by kind, severity
// and status, apart for those snoozed at the store's clock, in one read.
func (s *Store) FindingTallyUnresolved(ctx context.Context) ([]FindingTally, error) {
	now := s.Now().UTC()
	var rows []FindingTally
	err := s.db.WithContext(ctx).Raw(`SELECT kind, severity, status,
  COUNT(CASE WHEN snoozed_until > ? THEN NULL ELSE 1 END) AS awake,
  COUNT(CASE WHEN snoozed_until > ? THEN 1 END) AS snoozed
FROM findings WHERE resolved_at IS NULL GROUP BY kind, severity, status ORDER BY kind, severity, status`, now, now).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("tally unresolved findings: %w", translate(err))
	}
	return rows, nil
}
