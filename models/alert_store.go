package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// AlertKind says what an alert announces.
type AlertKind string

// Alert kinds.
const (
	AlertOpened   AlertKind = "opened"   // a finding opened (or is still open after the re-notify interval)
	AlertResolved AlertKind = "resolved" // an announced finding resolved
	AlertSummary  AlertKind = "summary"  // too many findings at once: one alert for them all
)

// AlertStatus is where an outbox row stands.
type AlertStatus string

// Alert statuses.
const (
	AlertPending   AlertStatus = "pending"
	AlertDelivered AlertStatus = "delivered"
	AlertFailed    AlertStatus = "failed" // refused, or out of attempts
)

// AlertOutbox is one alert to deliver to one sink. DedupKey is unique
// forever, so writing the same alert twice stores it once.
type AlertOutbox struct {
	ID            int64 `gorm:"primaryKey;autoIncrement"`
	DedupKey      string
	Sink          string
	Kind          AlertKind
	FindingID     *string
	Payload       string `gorm:"type:text"`
	Status        AlertStatus
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	LastError     *string
}

// TableName is alert_outbox.
func (AlertOutbox) TableName() string { return "alert_outbox" }

// AlertNotice records that an unresolved finding was announced: when first
// and last, and how many times.
type AlertNotice struct {
	FindingID       string `gorm:"primaryKey"`
	FirstNotifiedAt time.Time
	LastNotifiedAt  time.Time
	Notifications   int
}

// TableName is alert_notices.
func (AlertNotice) TableName() string { return "alert_notices" }

// AlertNoticeClaim is the outcome of claiming one finding's announcement.
type AlertNoticeClaim struct {
	FindingID     string
	Notifications int // 1 for the first announcement, 2 for the first re-announcement...
}

// AlertNoticeClaimNew records the first announcement of findings at now and
// returns those this call claimed: a finding another sweep claimed first is
// left out, so each is announced once.
func (s *Store) AlertNoticeClaimNew(ctx context.Context, findingIDs []string) ([]AlertNoticeClaim, error) {
	if len(findingIDs) == 0 {
		return nil, nil
	}
	now := s.Now()
	q, args := multiInsert("INSERT INTO alert_notices (finding_id, first_notified_at, last_notified_at, notifications)", "(?, ?, ?, 1)",
		"ON CONFLICT (finding_id) DO NOTHING RETURNING finding_id, notifications", len(findingIDs),
		func(i int) []any { return []any{findingIDs[i], now, now} })
	out, err := s.scanClaims(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("claim %d new announcements: %w", len(findingIDs), err)
	}
	return out, nil
}

// AlertNoticeClaimRenotify records another announcement at now of the
// findings last announced at or before cutoff, and returns those this call
// claimed.
func (s *Store) AlertNoticeClaimRenotify(ctx context.Context, findingIDs []string, cutoff time.Time) ([]AlertNoticeClaim, error) {
	if len(findingIDs) == 0 {
		return nil, nil
	}
	out, err := s.scanClaims(ctx, `UPDATE alert_notices SET last_notified_at = ?, notifications = notifications + 1
WHERE finding_id IN ? AND last_notified_at <= ? RETURNING finding_id, notifications`, s.Now(), findingIDs, cutoff.UTC())
	if err != nil {
		return nil, fmt.Errorf("claim %d re-announcements: %w", len(findingIDs), err)
	}
	return out, nil
}

// AlertNoticeRelease forgets the announcements of findings (they resolved)
// and returns those this call removed: each resolution is handled once.
func (s *Store) AlertNoticeRelease(ctx context.Context, findingIDs []string) ([]AlertNoticeClaim, error) {
	if len(findingIDs) == 0 {
		return nil, nil
	}
	out, err := s.scanClaims(ctx, "DELETE FROM alert_notices WHERE finding_id IN ? RETURNING finding_id, notifications", findingIDs)
	if err != nil {
		return nil, fmt.Errorf("release %d announcements: %w", len(findingIDs), err)
	}
	return out, nil
}

func (s *Store) scanClaims(ctx context.Context, q string, args ...any) ([]AlertNoticeClaim, error) {
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []AlertNoticeClaim
	for rows.Next() {
		var c AlertNoticeClaim
		if err := rows.Scan(&c.FindingID, &c.Notifications); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

// AlertNoticeGet loads a finding's announcement record.
func (s *Store) AlertNoticeGet(ctx context.Context, findingID string) (*AlertNotice, error) {
	return first[AlertNotice](s.db.WithContext(ctx).Where("finding_id = ?", findingID), "announcement of finding "+findingID)
}

// AlertEnqueue stores alerts as pending, due now, skipping any whose dedup
// key is already stored, and returns how many it stored.
func (s *Store) AlertEnqueue(ctx context.Context, alerts []AlertOutbox) (int64, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	now := s.Now()
	for i := range alerts {
		alerts[i].ID = 0
		alerts[i].Status = AlertPending
		alerts[i].Attempts = 0
		alerts[i].CreatedAt, alerts[i].NextAttemptAt = now, now
		alerts[i].DeliveredAt, alerts[i].LastError = nil, nil
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedup_key"}}, DoNothing: true}).
		CreateInBatches(&alerts, 200)
	if res.Error != nil {
		return 0, fmt.Errorf("enqueue %d alerts: %w", len(alerts), translate(res.Error))
	}
	return res.RowsAffected, nil
}

// AlertClaimDue takes up to limit due pending alerts, oldest first, and
// leases them until leaseUntil: no other dispatcher takes them before then,
// and a dispatcher that dies mid-delivery leaves them to be retried after.
// On PostgreSQL, SKIP LOCKED lets several processes claim side by side.
func (s *Store) AlertClaimDue(ctx context.Context, limit int, leaseUntil time.Time) ([]AlertOutbox, error) {
	sub := "SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
	if s.dialect == DialectPostgres {
		sub += " FOR UPDATE SKIP LOCKED"
	}
	var ids []int64
	rows, err := s.db.WithContext(ctx).Raw("UPDATE alert_outbox SET next_attempt_at = ? WHERE id IN ("+sub+") RETURNING id",
		leaseUntil.UTC(), s.Now(), limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("claim due alerts: %w", translate(err))
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim due alerts: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim due alerts: %w", translate(err))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var out []AlertOutbox
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("load claimed alerts: %w", translate(err))
	}
	return out, nil
}

// AlertMarkDelivered records a successful delivery, which was attempt
// number attempts.
func (s *Store) AlertMarkDelivered(ctx context.Context, id int64, attempts int) error {
	return s.alertUpdate(ctx, id, "mark alert delivered", map[string]any{
		"status": AlertDelivered, "attempts": attempts, "delivered_at": s.Now(), "last_error": nil,
	})
}

// AlertRetryLater records failed attempt number attempts and when to try
// again.
func (s *Store) AlertRetryLater(ctx context.Context, id int64, attempts int, next time.Time, reason string) error {
	return s.alertUpdate(ctx, id, "reschedule alert", map[string]any{
		"attempts": attempts, "next_attempt_at": next.UTC(), "last_error": reason,
	})
}

// AlertMarkFailed gives up on an alert: refused, or out of attempts.
func (s *Store) AlertMarkFailed(ctx context.Context, id int64, attempts int, reason string) error {
	return s.alertUpdate(ctx, id, "give up alert", map[string]any{
		"status": AlertFailed, "attempts": attempts, "last_error": reason,
	})
}

// AlertPostpone moves a pending alert's next attempt to next without
// counting an attempt: its sink just failed another alert, or the
// dispatcher is stopping.
func (s *Store) AlertPostpone(ctx context.Context, id int64, next time.Time) error {
	return s.alertUpdate(ctx, id, "postpone alert", map[string]any{"next_attempt_at": next.UTC()})
}

func (s *Store) alertUpdate(ctx context.Context, id int64, what string, set map[string]any) error {
	res := s.db.WithContext(ctx).Model(&AlertOutbox{}).Where("id = ? AND status = ?", id, AlertPending).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("%s %d: %w", what, id, translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("%s %d: not pending: %w", what, id, ErrConflict)
	}
	return nil
}

// AlertList returns the outbox, oldest first, optionally only one sink's rows.
func (s *Store) AlertList(ctx context.Context, sink string) ([]AlertOutbox, error) {
	q := s.db.WithContext(ctx).Model(&AlertOutbox{})
	if sink != "" {
		q = q.Where("sink = ?", sink)
	}
	var out []AlertOutbox
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list alerts: %w", translate(err))
	}
	return out, nil
}

// AlertOutboxBacklog counts pending alerts and returns the oldest one's
// creation time (zero when there is none).
func (s *Store) AlertOutboxBacklog(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest dbTime
	err := s.db.WithContext(ctx).Raw("SELECT COUNT(*), MIN(created_at) FROM alert_outbox WHERE status = 'pending'").
		Row().Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count alert backlog: %w", translate(err))
	}
	return n, oldest.Time, nil
}

// AlertOutboxPrune deletes delivered and failed alerts created before
// before, and returns how many.
func (s *Store) AlertOutboxPrune(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("status <> ? AND created_at < ?", AlertPending, before.UTC()).Delete(&AlertOutbox{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune alerts: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}
