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
	return first[ReconcileRun](s.db.WithContext(ctx).Where("id = ?", id), "run "+id)
}

// RunLastOK returns the newest run that ended ok, or ErrNotFound.
func (s *Store) RunLastOK(ctx context.Context) (*ReconcileRun, error) {
	return first[ReconcileRun](s.db.WithContext(ctx).Where("outcome = ?", RunOK).Order("started_at DESC"), "last ok run")
}

// RunList returns runs newest first and the next page's cursor.
func (s *Store) RunList(ctx context.Context, p Page) ([]ReconcileRun, string, error) {
	q := s.db.WithContext(ctx).Model(&ReconcileRun{})
	return keysetPage(q, p, "started_at", "runs", func(r *ReconcileRun) (time.Time, string) { return r.StartedAt, r.ID })
}
