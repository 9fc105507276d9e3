package models

import (
	"context"
	"fmt"
	"time"
)

// Run outcomes.
const (
	RunRunning = "running"
	RunOK      = "ok"
	RunPartial = "partial" // some of Coinflow could not be seen
	RunFailed  = "failed"
)

// ReconcileRun is one reconciliation run.
type ReconcileRun struct {
	ID          string `gorm:"primaryKey"`
	Trigger     string // schedule, api, cli
	StartedAt   time.Time
	FinishedAt  *time.Time
	Outcome     string
	WindowSince *time.Time
	Counts      Details `gorm:"type:text"`
	Problems    Details `gorm:"type:text"` // check name -> what went wrong
}

// RunCreate records a run as running.
func (s *Store) RunCreate(ctx context.Context, trigger string) (*ReconcileRun, error) {
	r := &ReconcileRun{ID: NewID(), Trigger: trigger, StartedAt: s.Now(), Outcome: RunRunning, Counts: Details{}, Problems: Details{}}
	if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
		return nil, fmt.Errorf("create run: %w", translate(err))
	}
	return r, nil
}

// RunFinish records a run's end.
func (s *Store) RunFinish(ctx context.Context, r *ReconcileRun) error {
	now := s.Now()
	r.FinishedAt = &now
	err := s.db.WithContext(ctx).Model(&ReconcileRun{}).Where("id = ?", r.ID).Updates(map[string]any{
		"finished_at": now, "outcome": r.Outcome, "window_since": r.WindowSince, "counts": r.Counts, "problems": r.Problems,
	}).Error
	if err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, translate(err))
	}
	return nil
}

// RunGet loads one run.
func (s *Store) RunGet(ctx context.Context, id string) (*ReconcileRun, error) {
	var r ReconcileRun
	if err := s.db.WithContext(ctx).Where("id = ?", id).First(&r).Error; err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, translate(err))
	}
	return &r, nil
}

// RunLastOK returns the newest run that ended ok, or ErrNotFound.
func (s *Store) RunLastOK(ctx context.Context) (*ReconcileRun, error) {
	var r ReconcileRun
	if err := s.db.WithContext(ctx).Where("outcome = ?", RunOK).Order("started_at DESC").First(&r).Error; err != nil {
		return nil, fmt.Errorf("last ok run: %w", translate(err))
	}
	return &r, nil
}

// RunList returns runs newest first and the next page's cursor.
func (s *Store) RunList(ctx context.Context, p Page) ([]ReconcileRun, string, error) {
	q := s.db.WithContext(ctx).Model(&ReconcileRun{})
	if p.Cursor != "" {
		t, id, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(started_at < ? OR (started_at = ? AND id < ?))", t, t, id)
	}
	limit := p.limit()
	var rs []ReconcileRun
	if err := q.Order("started_at DESC, id DESC").Limit(limit + 1).Find(&rs).Error; err != nil {
		return nil, "", fmt.Errorf("list runs: %w", translate(err))
	}
	next := ""
	if len(rs) > limit {
		rs = rs[:limit]
		next = encodeCursor(rs[limit-1].StartedAt, rs[limit-1].ID)
	}
	return rs, next, nil
}
