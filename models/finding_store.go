package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// FindingRaise records that a finding's condition holds now: it opens a new
// finding, or, when one is already unresolved for (Kind, Subject), updates
// its last_seen_at, severity and details. It returns the stored finding and
// whether it was opened by this call.
func (s *Store) FindingRaise(ctx context.Context, f Finding) (*Finding, bool, error) {
	if f.Kind == "" || f.Subject == "" || f.Severity == "" {
		return nil, false, fmt.Errorf("raise finding %q/%q: %w", f.Kind, f.Subject, ErrInvalidFinding)
	}
	now := s.Now()
	f.ID = NewID()
	f.Status = FindingOpen
	f.FirstRunID = f.LastRunID
	f.FirstSeenAt, f.LastSeenAt = now, now
	if f.Details == nil {
		f.Details = Details{}
	}
	opened := f.ID
	// One statement: the upsert returns the stored row, the new one or the
	// unresolved one it updated (whose id is then not ours).
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:     []clause.Column{{Name: "kind"}, {Name: "subject"}},
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "resolved_at IS NULL"}}},
		DoUpdates:   clause.AssignmentColumns([]string{"last_seen_at", "severity", "details", "last_run_id"}),
	}, clause.Returning{}).Create(&f).Error
	if err != nil {
		return nil, false, fmt.Errorf("raise finding %s/%s: %w", f.Kind, f.Subject, translate(err))
	}
	return &f, f.ID == opened, nil
}

// FindingGet loads one finding.
func (s *Store) FindingGet(ctx context.Context, id string) (*Finding, error) {
	return first[Finding](s.db.WithContext(ctx).Where("id = ?", id), "finding "+id)
}

// FindingAcknowledge marks an open finding acknowledged by who, with a note.
// Acknowledging keeps it unresolved: its condition still holds. ErrNotFound
// for an unknown id; ErrConflict for a resolved finding.
func (s *Store) FindingAcknowledge(ctx context.Context, id, who, note string) (*Finding, error) {
	res := s.db.WithContext(ctx).Model(&Finding{}).Where("id = ? AND resolved_at IS NULL", id).
		Updates(map[string]any{"status": FindingAcknowledged, "acknowledged_at": s.Now(), "acknowledged_by": who, "ack_note": note})
	if res.Error != nil {
		return nil, fmt.Errorf("acknowledge finding %s: %w", id, translate(res.Error))
	}
	f, err := s.FindingGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 {
		return f, fmt.Errorf("acknowledge finding %s: already resolved: %w", id, ErrConflict)
	}
	return f, nil
}

// FindingResolve resolves the unresolved finding (kind, subject), if any,
// and reports whether there was one.
func (s *Store) FindingResolve(ctx context.Context, kind FindingKind, subject string) (bool, error) {
	now := s.Now()
	res := s.db.WithContext(ctx).Model(&Finding{}).Where("kind = ? AND subject = ? AND resolved_at IS NULL", kind, subject).
		Updates(map[string]any{"status": FindingResolved, "resolved_at": now, "last_seen_at": now})
	if res.Error != nil {
		return false, fmt.Errorf("resolve finding %s/%s: %w", kind, subject, translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// FindingResolveUnseen resolves the unresolved findings of kind that run
// did not raise again: the run checked everything the kind covers and their
// condition is gone. A non-empty subjectPrefix limits it to those subjects.
// It returns how many it resolved.
func (s *Store) FindingResolveUnseen(ctx context.Context, kind FindingKind, runID string, subjectPrefix string) (int64, error) {
	now := s.Now()
	q := s.db.WithContext(ctx).Model(&Finding{}).
		Where("kind = ? AND resolved_at IS NULL AND (last_run_id IS NULL OR last_run_id <> ?)", kind, runID)
	if subjectPrefix != "" {
		q = q.Where("subject LIKE ?", subjectPrefix+"%")
	}
	res := q.Updates(map[string]any{"status": FindingResolved, "resolved_at": now, "resolved_run_id": runID})
	if res.Error != nil {
		return 0, fmt.Errorf("resolve unseen %s findings: %w", kind, translate(res.Error))
	}
	return res.RowsAffected, nil
}

// FindingResolveFor resolves the unresolved finding (kind, subject) in run.
func (s *Store) FindingResolveFor(ctx context.Context, kind FindingKind, subject, runID string) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Finding{}).Where("kind = ? AND subject = ? AND resolved_at IS NULL", kind, subject).
		Updates(map[string]any{"status": FindingResolved, "resolved_at": s.Now(), "resolved_run_id": runID})
	if res.Error != nil {
		return false, fmt.Errorf("resolve finding %s/%s: %w", kind, subject, translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// FindingListOfRun lists the findings a run opened, saw or resolved.
func (s *Store) FindingListOfRun(ctx context.Context, runID string, limit int) ([]Finding, error) {
	var fs []Finding
	err := s.db.WithContext(ctx).Where("first_run_id = ? OR last_run_id = ? OR resolved_run_id = ?", runID, runID, runID).
		Order("first_seen_at DESC, id DESC").Limit(limit).Find(&fs).Error
	if err != nil {
		return nil, fmt.Errorf("list findings of run %s: %w", runID, translate(err))
	}
	return fs, nil
}

// FindingFilter narrows FindingList.
type FindingFilter struct {
	Status   FindingStatus
	Kind     FindingKind
	Severity Severity
	PayoutID string
	Page
}

// FindingList returns findings, most recently opened first, and the next
// page's cursor.
func (s *Store) FindingList(ctx context.Context, f FindingFilter) ([]Finding, string, error) {
	q := s.db.WithContext(ctx).Model(&Finding{})
	switch f.Status {
	case "":
	case FindingSnoozed:
		q = snoozedAt(q, s.Now(), true)
	case FindingOpen, FindingAcknowledged:
		// A snoozed finding is listed under "snoozed" only.
		q = snoozedAt(q.Where("status = ?", f.Status), s.Now(), false)
	default:
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Severity != "" {
		q = q.Where("severity = ?", f.Severity)
	}
	if f.PayoutID != "" {
		q = q.Where("payout_id = ?", f.PayoutID)
	}
	return keysetPage(q, f.Page, "first_seen_at", "findings", func(f *Finding) (time.Time, string) { return f.FirstSeenAt, f.ID })
}

// FindingCountOpen counts unresolved findings by kind.
func (s *Store) FindingCountOpen(ctx context.Context) (map[FindingKind]int64, error) {
	return countUnresolvedBy[FindingKind](ctx, s, "kind")
}

// FindingCountOpenBySeverity counts unresolved findings by severity.
func (s *Store) FindingCountOpenBySeverity(ctx context.Context) (map[Severity]int64, error) {
	return countUnresolvedBy[Severity](ctx, s, "severity")
}

// countUnresolvedBy counts unresolved findings grouped by one column.
func countUnresolvedBy[K ~string](ctx context.Context, s *Store, col string) (map[K]int64, error) {
	var rows []struct {
		Key K
		N   int64
	}
	q := "SELECT " + col + " AS key, COUNT(*) AS n FROM findings WHERE resolved_at IS NULL GROUP BY " + col
	if err := s.db.WithContext(ctx).Raw(q).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count findings by %s: %w", col, translate(err))
	}
	out := map[K]int64{}
	for _, r := range rows {
		out[r.Key] = r.N
	}
	return out, nil
}

// FindingListUnresolved returns up to limit findings not resolved (open or
// acknowledged), oldest first.
func (s *Store) FindingListUnresolved(ctx context.Context, limit int) ([]Finding, error) {
	var fs []Finding
	if err := s.db.WithContext(ctx).Where("resolved_at IS NULL").Order("first_seen_at, id").Limit(limit).Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("list unresolved findings: %w", translate(err))
	}
	return fs, nil
}

// FindingListUnannounced lists open (not acknowledged) unresolved findings
// that have not been announced, among those changed since the mark, oldest
// first. A finding becomes one when it opens, so the notifier reads the
// findings opened since its last sweep, not every open one.
func (s *Store) FindingListUnannounced(ctx context.Context, since FindingMark, limit int) ([]Finding, error) {
	var fs []Finding
	err := changedSince(s.db.WithContext(ctx).Table(s.indexedBy("findings", "findings_change_seq")), since).
		Where("resolved_at IS NULL AND status = ?", FindingOpen).
		Where("NOT EXISTS (SELECT 1 FROM alert_notices n WHERE n.finding_id = findings.id)").
		Order("first_seen_at, id").Limit(limit).Find(&fs).Error
	if err != nil {
		return nil, fmt.Errorf("list unannounced findings: %w", translate(err))
	}
	return fs, nil
}

// FindingListAnnouncedBefore lists open (not acknowledged) unresolved findings
// last announced at or before cutoff, longest waiting first, reading the
// announcements by time: those due, not every open finding. A finding
// snoozed at the store's clock is not due: its reminder waits for the
// snooze to end, and is then sent, the last announcement being long past.
func (s *Store) FindingListAnnouncedBefore(ctx context.Context, cutoff time.Time, limit int) ([]Finding, error) {
	var fs []Finding
	err := s.db.WithContext(ctx).Table(s.indexedBy("alert_notices n", "alert_notices_last")+" CROSS JOIN findings").
		Select("findings.*").
		Where("findings.id = n.finding_id AND n.last_notified_at <= ?", cutoff.UTC()).
		Where("findings.resolved_at IS NULL AND findings.status = ?", FindingOpen).
		Where("(findings.snoozed_until IS NULL OR findings.snoozed_until <= ?)", s.Now().UTC()).
		Order("n.last_notified_at, findings.id").Limit(limit).Find(&fs).Error
	if err != nil {
		return nil, fmt.Errorf("list findings to re-announce: %w", translate(err))
	}
	return fs, nil
}

// FindingListAnnouncedResolved lists announced findings that have since
// resolved, among those changed since the mark, oldest resolution first.
func (s *Store) FindingListAnnouncedResolved(ctx context.Context, since FindingMark, limit int) ([]Finding, error) {
	var fs []Finding
	err := changedSince(s.db.WithContext(ctx).Table(s.indexedBy("findings", "findings_change_seq")+" CROSS JOIN alert_notices n"), since).
		Select("findings.*").
		Where("n.finding_id = findings.id AND findings.resolved_at IS NOT NULL").
		Order("findings.resolved_at, findings.id").Limit(limit).Find(&fs).Error
	if err != nil {
		return nil, fmt.Errorf("list announced resolved findings: %w", translate(err))
	}
	return fs, nil
}

// indexedBy is table (with its alias) read through index on SQLite. With
// no statistics SQLite's planner prefers an index that gives a query's
// order to one that finds its few rows, and reads every open finding to
// find none; a CROSS JOIN after it keeps it the outer table. PostgreSQL
// plans by its statistics.
func (s *Store) indexedBy(table, index string) string {
	if s.dialect == DialectSQLite {
		return table + " INDEXED BY " + index
	}
	return table
}

// FindingRef names one finding by id and subject.
type FindingRef struct {
	ID      string
	Subject string
}

// FindingListNotRaisedBy lists the unresolved findings of kind that run did
// not raise: the candidates for resolution once the run has checked their
// subjects.
func (s *Store) FindingListNotRaisedBy(ctx context.Context, kind FindingKind, runID string) ([]FindingRef, error) {
	var refs []FindingRef
	err := s.db.WithContext(ctx).Model(&Finding{}).Select("id", "subject").
		Where("kind = ? AND resolved_at IS NULL AND (last_run_id IS NULL OR last_run_id <> ?)", kind, runID).
		Order("id").Scan(&refs).Error
	if err != nil {
		return nil, fmt.Errorf("list %s findings not raised by run %s: %w", kind, runID, translate(err))
	}
	return refs, nil
}

// FindingResolveInRun resolves, in run, the findings with the given ids
// that are still unresolved and that run did not raise again since they
// were listed. It returns how many it resolved.
func (s *Store) FindingResolveInRun(ctx context.Context, ids []string, runID string) (int64, error) {
	var n int64
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		res := s.db.WithContext(ctx).Model(&Finding{}).
			Where("id IN ? AND resolved_at IS NULL AND (last_run_id IS NULL OR last_run_id <> ?)", chunk, runID).
			Updates(map[string]any{"status": FindingResolved, "resolved_at": s.Now(), "resolved_run_id": runID})
		if res.Error != nil {
			return n, fmt.Errorf("resolve %d findings: %w", len(chunk), translate(res.Error))
		}
		n += res.RowsAffected
	}
	return n, nil
}

// FindingCount is how many unresolved findings share a kind and severity.
type FindingCount struct {
	Kind     FindingKind
	Severity Severity
	N        int64
}

// FindingCountOpenByKindSeverity counts unresolved findings (open or
// acknowledged) by kind and severity.
func (s *Store) FindingCountOpenByKindSeverity(ctx context.Context) ([]FindingCount, error) {
	var rows []FindingCount
	err := s.db.WithContext(ctx).Raw(`SELECT kind, severity, COUNT(*) AS n FROM findings
WHERE resolved_at IS NULL GROUP BY kind, severity ORDER BY kind, severity`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count findings by kind and severity: %w", translate(err))
	}
	return rows, nil
}
