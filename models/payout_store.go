package models

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// NewID returns a new time-ordered identifier for payouts and findings.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// PayoutGet loads one payout.
func (s *Store) PayoutGet(ctx context.Context, id string) (*Payout, error) {
	return first[Payout](s.db.WithContext(ctx).Where("id = ?", id), "payout "+id)
}

// PayoutCreate records a payout the merchant asked for (or a test seeds)
// with its first history row. ErrConflict when its idempotency key or
// transaction is already taken. What Coinflow says of payouts is written
// by PayoutWrite.
func (s *Store) PayoutCreate(ctx context.Context, p *Payout, source Source, inboxEventID *int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		if err := tx.payoutInsert(ctx, p, now); err != nil {
			return err
		}
		h := PayoutHistory{
			PayoutID: p.ID, ToStatus: string(p.Status), ToDetail: p.StatusDetail, Applied: true,
			Reason: ReasonCreated, Source: source, InboxEventID: inboxEventID, EvidenceAt: p.StatusAt, CreatedAt: now,
		}
		if err := tx.db.WithContext(ctx).Create(&h).Error; err != nil {
			return fmt.Errorf("create payout history: %w", translate(err))
		}
		return nil
	})
}

// PayoutHistoryList returns a payout's history, oldest first.
func (s *Store) PayoutHistoryList(ctx context.Context, payoutID string) ([]PayoutHistory, error) {
	var hs []PayoutHistory
	if err := s.db.WithContext(ctx).Where("payout_id = ?", payoutID).Order("id").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("list payout history %s: %w", payoutID, translate(err))
	}
	return hs, nil
}

// PayoutFilter narrows PayoutList. Empty fields do not filter.
type PayoutFilter struct {
	Status         PayoutStatus
	UserID         string
	Speed          string // requested or effective
	Transaction    string
	IdempotencyKey string
	Stuck          bool      // only payouts with an unresolved stuck_payout finding
	From, To       time.Time // created_at in [From, To)
	Page
}

// PayoutList returns payouts newest first and the cursor of the next page
// ("" on the last page).
func (s *Store) PayoutList(ctx context.Context, f PayoutFilter) ([]Payout, string, error) {
	q := s.db.WithContext(ctx).Model(&Payout{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Speed != "" {
		q = q.Where("(requested_speed = ? OR effective_speed = ?)", f.Speed, f.Speed)
	}
	if f.Transaction != "" {
		q = q.Where("coinflow_transaction = ?", f.Transaction)
	}
	if f.IdempotencyKey != "" {
		q = q.Where("idempotency_key = ?", f.IdempotencyKey)
	}
	if f.Stuck {
		q = q.Where("id IN (SELECT payout_id FROM findings WHERE kind = ? AND resolved_at IS NULL AND payout_id IS NOT NULL)", KindStuckPayout)
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	return keysetPage(q, f.Page, "created_at", "payouts", func(p *Payout) (time.Time, string) { return p.CreatedAt, p.ID })
}

// PayoutByIdempotencyKey loads the payout recorded under key.
func (s *Store) PayoutByIdempotencyKey(ctx context.Context, key string) (*Payout, error) {
	return first[Payout](s.db.WithContext(ctx).Where("idempotency_key = ?", key), "payout by idempotency key")
}

// PayoutLeaseInitiation takes the right to call Coinflow for a payout that
// has not reached it yet (status requested or unknown) until the given time,
// unless another holder's lease is still running. It reports whether the
// lease was taken: with several processes, only the holder pays.
func (s *Store) PayoutLeaseInitiation(ctx context.Context, id string, until time.Time) (bool, error) {
	now := s.Now()
	res := s.db.WithContext(ctx).Model(&Payout{}).
		Where("id = ? AND status IN ? AND (initiation_lease_until IS NULL OR initiation_lease_until < ?)",
			id, []PayoutStatus{StatusRequested, StatusUnknown}, now).
		Updates(map[string]any{"initiation_lease_until": until.UTC(), "updated_at": now})
	if res.Error != nil {
		return false, fmt.Errorf("lease payout %s: %w", id, translate(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// PayoutCandidates are the payouts a withdrawal may belong to: the one
// holding its transaction and the one holding its idempotency key (nil
// where none does; both may be the same payout).
type PayoutCandidates struct {
	ByTransaction, ByKey *Payout
}

// PayoutCandidatesFor loads the candidates for a withdrawal with this
// transaction and idempotency key ("" for either when unknown). In a
// transaction on PostgreSQL the rows are locked until commit.
func (s *Store) PayoutCandidatesFor(ctx context.Context, transaction, idempotencyKey string) (PayoutCandidates, error) {
	var c PayoutCandidates
	if transaction == "" && idempotencyKey == "" {
		return c, nil
	}
	var ps []Payout
	q := s.forUpdate(s.db.WithContext(ctx))
	switch {
	case transaction != "" && idempotencyKey != "":
		q = q.Where("coinflow_transaction = ? OR idempotency_key = ?", transaction, idempotencyKey)
	case transaction != "":
		q = q.Where("coinflow_transaction = ?", transaction)
	default:
		q = q.Where("idempotency_key = ?", idempotencyKey)
	}
	if err := q.Find(&ps).Error; err != nil {
		return c, fmt.Errorf("find payout: %w", translate(err))
	}
	for i := range ps {
		if transaction != "" && ps[i].CoinflowTransaction != nil && *ps[i].CoinflowTransaction == transaction {
			c.ByTransaction = &ps[i]
		}
		if idempotencyKey != "" && ps[i].IdempotencyKey != nil && *ps[i].IdempotencyKey == idempotencyKey {
			c.ByKey = &ps[i]
		}
	}
	return c, nil
}

// PayoutLeaseRelease gives up the right to drive a payout to Coinflow.
func (s *Store) PayoutLeaseRelease(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Model(&Payout{}).Where("id = ?", id).UpdateColumn("initiation_lease_until", nil).Error
	if err != nil {
		return fmt.Errorf("release lease of payout %s: %w", id, translate(err))
	}
	return nil
}
