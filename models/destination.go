package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// Destination is a withdrawer's saved payout destination as payoutd keeps
// it: Coinflow's token, its kind (rail.Destination), currency, last four
// characters and the speeds Coinflow says it takes. The account number,
// card token or PIX key behind it is never kept.
type Destination struct {
	UserID    string `gorm:"primaryKey"`
	Token     string `gorm:"primaryKey"`
	Kind      string
	Currency  string
	Last4     string
	Speeds    string     // comma-separated speeds; see SpeedList
	DeletedAt *time.Time // deleted at Coinflow; the row stays for the payouts that name it
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SpeedList is the speeds the destination takes.
func (d *Destination) SpeedList() []string {
	if d.Speeds == "" {
		return nil
	}
	return strings.Split(d.Speeds, ",")
}

// Offers reports whether the destination takes speed.
func (d *Destination) Offers(speed string) bool {
	for _, s := range d.SpeedList() {
		if s == speed {
			return true
		}
	}
	return false
}

// JoinSpeeds is the stored form of a speed list.
func JoinSpeeds(speeds []string) string { return strings.Join(speeds, ",") }

// DestinationSave records what Coinflow says of a withdrawer's
// destination: a new one is inserted; a known one gets Coinflow's kind,
// currency, last four, speeds and deletion.
func (s *Store) DestinationSave(ctx context.Context, d *Destination) error {
	now := s.Now()
	d.CreatedAt, d.UpdatedAt = now, now
	d.DeletedAt = utcPtr(d.DeletedAt)
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"kind", "currency", "last4", "speeds", "deleted_at", "updated_at"}),
	}).Create(d).Error
	if err != nil {
		return fmt.Errorf("save destination of %s: %w", d.UserID, translate(err))
	}
	return nil
}

// DestinationGet loads the withdrawer's destination with token;
// ErrNotFound when payoutd does not know it.
func (s *Store) DestinationGet(ctx context.Context, userID, token string) (*Destination, error) {
	return first[Destination](s.db.WithContext(ctx).Where("user_id = ? AND token = ?", userID, token), "destination")
}

// DestinationsOf lists a withdrawer's destinations, oldest first, deleted
// ones included.
func (s *Store) DestinationsOf(ctx context.Context, userID string) ([]Destination, error) {
	var ds []Destination
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at, token").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("list destinations of %s: %w", userID, translate(err))
	}
	return ds, nil
}

// DestinationMarkDeleted records that Coinflow deleted the destination.
// ErrNotFound when the user has no such destination.
func (s *Store) DestinationMarkDeleted(ctx context.Context, userID, token string) error {
	now := s.Now()
	res := s.db.WithContext(ctx).Model(&Destination{}).Where("token = ? AND user_id = ?", token, userID).
		Updates(map[string]any{"deleted_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("delete destination of %s: %w", userID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("destination of %s: %w", userID, ErrNotFound)
	}
	return nil
}
