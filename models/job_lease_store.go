package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// JobLeaseClaim implements the scheduler's lease: at most one claim per
// minGap for a job across processes, and none while another holder's lease
// runs. The claim is one conditional UPDATE, so it is atomic on both
// databases.
func (s *Store) JobLeaseClaim(ctx context.Context, job, holder string, minGap, lease time.Duration) (bool, error) {
	now := s.Now()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&jobLease{Job: job, ClaimedAt: time.Unix(0, 0).UTC()}).Error
	if err != nil {
		return false, fmt.Errorf("create job lease %s: %w", job, translate(err))
	}
	res := s.db.WithContext(ctx).Model(&jobLease{}).
		Where("job = ? AND claimed_at <= ? AND (lease_until IS NULL OR lease_until < ?)", job, now.Add(-minGap), now).
		Updates(map[string]any{"holder": holder, "claimed_at": now, "lease_until": now.Add(lease)})
	if res.Error != nil {
		return false, fmt.Errorf("claim job %s: %w", job, translate(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// JobLeaseRelease ends holder's lease on job.
func (s *Store) JobLeaseRelease(ctx context.Context, job, holder string) error {
	err := s.db.WithContext(ctx).Model(&jobLease{}).Where("job = ? AND holder = ?", job, holder).
		Update("lease_until", nil).Error
	if err != nil {
		return fmt.Errorf("release job %s: %w", job, translate(err))
	}
	return nil
}

type jobLease struct {
	Job        string `gorm:"primaryKey"`
	Holder     *string
	ClaimedAt  time.Time
	LeaseUntil *time.Time
}

func (jobLease) TableName() string { return "job_leases" }
