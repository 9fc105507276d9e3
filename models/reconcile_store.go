package models

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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

// WalletSnapshot is the Coinflow wallet balance seen by a run.
type WalletSnapshot struct {
	ID           int64 `gorm:"primaryKey;autoIncrement"`
	RunID        string
	TakenAt      time.Time
	BalanceCents int64
}

// WalletSnapshotAdd records a balance read at takenAt.
func (s *Store) WalletSnapshotAdd(ctx context.Context, runID string, takenAt time.Time, cents int64) (*WalletSnapshot, error) {
	w := &WalletSnapshot{RunID: runID, TakenAt: takenAt.UTC().Truncate(time.Microsecond), BalanceCents: cents}
	if err := s.db.WithContext(ctx).Create(w).Error; err != nil {
		return nil, fmt.Errorf("record wallet snapshot: %w", translate(err))
	}
	return w, nil
}

// WalletSnapshotLatestBefore returns the newest snapshot taken before t.
func (s *Store) WalletSnapshotLatestBefore(ctx context.Context, t time.Time) (*WalletSnapshot, error) {
	var w WalletSnapshot
	if err := s.db.WithContext(ctx).Where("taken_at < ?", t.UTC()).Order("taken_at DESC, id DESC").First(&w).Error; err != nil {
		return nil, fmt.Errorf("latest wallet snapshot: %w", translate(err))
	}
	return &w, nil
}

// WalletSnapshots lists snapshots taken in [from, to), oldest first.
func (s *Store) WalletSnapshots(ctx context.Context, from, to time.Time) ([]WalletSnapshot, error) {
	var ws []WalletSnapshot
	if err := s.db.WithContext(ctx).Where("taken_at >= ? AND taken_at < ?", from.UTC(), to.UTC()).Order("taken_at, id").Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("list wallet snapshots: %w", translate(err))
	}
	return ws, nil
}

// PayoutsMatching loads the local payouts that match any of the Coinflow
// transactions, and, for keys whose withdraw the transactions did not
// match, by idempotency key: almost every page is matched by transaction
// alone, so the second query is rarely needed. It scans rows by hand
// (scanPayouts), not through GORM's reflection: reconciliation calls it once
// per page of withdraws, and GORM's row mapping was a sixth of the run's CPU.
func (s *Store) PayoutsMatching(ctx context.Context, transactions, keys []string) ([]Payout, error) {
	var ps []Payout
	if len(transactions) > 0 {
		var err error
		if ps, err = s.scanPayouts(ctx, "coinflow_transaction IN ?", transactions); err != nil {
			return nil, fmt.Errorf("load payouts for a page: %w", err)
		}
	}
	if len(keys) == 0 {
		return ps, nil
	}
	have := make(map[string]bool, len(ps))
	for i := range ps {
		if ps[i].IdempotencyKey != nil {
			have[*ps[i].IdempotencyKey] = true
		}
	}
	var missing []string
	for _, k := range keys {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return ps, nil
	}
	byKey, err := s.scanPayouts(ctx, "idempotency_key IN ?", missing)
	if err != nil {
		return nil, fmt.Errorf("load payouts for a page: %w", err)
	}
	for i := range byKey {
		dup := false
		for j := range ps {
			dup = dup || ps[j].ID == byKey[i].ID
		}
		if !dup {
			ps = append(ps, byKey[i])
		}
	}
	return ps, nil
}

// payoutColumns are every column of payouts, in the order scanPayouts reads
// them into a Payout (a test holds it to the model's fields).
var payoutColumns = []string{
	"id", "idempotency_key", "user_id", "amount_cents", "amount_currency", "requested_speed", "effective_speed",
	"status", "status_detail", "status_at", "return_status", "coinflow_transaction", "coinflow_transfer_id",
	"account_token", "user_fees_cents", "user_fees_currency", "merchant_fees_cents", "merchant_fees_currency",
	"expected_delivery_at", "source", "request_fingerprint", "initiation_lease_until", "returned_at",
	"created_at", "updated_at",
}

var payoutSelect = "SELECT " + strings.Join(payoutColumns, ", ") + " FROM payouts WHERE "

// scanPayouts runs SELECT <every column> FROM payouts WHERE where and reads
// the rows into Payouts without reflection.
func (s *Store) scanPayouts(ctx context.Context, where string, args ...any) ([]Payout, error) {
	rows, err := s.db.WithContext(ctx).Raw(payoutSelect+where, args...).Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var (
		ps                                          []Payout
		statusAt, expected, lease, returned, ct, ut dbTime
		status, source                              string
	)
	for rows.Next() {
		var p Payout
		err := rows.Scan(&p.ID, &p.IdempotencyKey, &p.UserID, &p.Amount.Cents, &p.Amount.Currency, &p.RequestedSpeed, &p.EffectiveSpeed,
			&status, &p.StatusDetail, &statusAt, &p.ReturnStatus, &p.CoinflowTransaction, &p.CoinflowTransferID,
			&p.AccountToken, &p.UserFees.Cents, &p.UserFees.Currency, &p.MerchantFees.Cents, &p.MerchantFees.Currency,
			&expected, &source, &p.RequestFingerprint, &lease, &returned,
			&ct, &ut)
		if err != nil {
			return nil, translate(err)
		}
		p.Status, p.Source = PayoutStatus(status), Origin(source)
		p.StatusAt, p.CreatedAt, p.UpdatedAt = statusAt.Time, ct.Time, ut.Time
		p.ExpectedDeliveryAt, p.InitiationLeaseUntil, p.ReturnedAt = expected.ptr(), lease.ptr(), returned.ptr()
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return ps, nil
}

// PayoutsEach calls fn for each payout the query selects, in batches, so
// that memory stays one batch whatever the table's size.
func (s *Store) payoutsEach(ctx context.Context, q *gorm.DB, fn func(*Payout) error) error {
	var batch []Payout
	res := q.WithContext(ctx).FindInBatches(&batch, 1000, func(_ *gorm.DB, _ int) error {
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if res.Error != nil {
		return fmt.Errorf("scan payouts: %w", translate(res.Error))
	}
	return nil
}

// PayoutIDsExpectedAtCoinflow calls fn with the id of each payout created
// in [since, before) that Coinflow should list: everything except payouts
// refused before they reached Coinflow (failed with no transaction). It
// reads ids only, so a run can check a million of them against what it saw.
// fn must not use the store: on SQLite the scan holds the one connection.
func (s *Store) PayoutIDsExpectedAtCoinflow(ctx context.Context, since, before time.Time, fn func(id string) error) error {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT id FROM payouts
WHERE created_at >= ? AND created_at < ? AND NOT (status = ? AND coinflow_transaction IS NULL)`,
		since.UTC(), before.UTC(), StatusFailed).Rows()
	if err != nil {
		return fmt.Errorf("scan payout ids: %w", translate(err))
	}
	defer rows.Close()
	var id string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("scan payout ids: %w", translate(err))
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan payout ids: %w", translate(err))
	}
	return nil
}

// PayoutsByIDs loads the payouts with the given ids, in id order; ids that
// do not exist are left out.
func (s *Store) PayoutsByIDs(ctx context.Context, ids []string) ([]Payout, error) {
	var out []Payout
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		var ps []Payout
		if err := s.db.WithContext(ctx).Where("id IN ?", chunk).Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("load %d payouts: %w", len(chunk), translate(err))
		}
		out = append(out, ps...)
	}
	slices.SortFunc(out, func(a, b Payout) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// PayoutsInStatus calls fn for every payout in one of statuses.
func (s *Store) PayoutsInStatus(ctx context.Context, statuses []PayoutStatus, fn func(*Payout) error) error {
	return s.payoutsEach(ctx, s.db.Model(&Payout{}).Where("status IN ?", statuses), fn)
}

// PayoutsSpeedDiffers calls fn for payouts whose effective speed is known
// and differs from the requested one.
func (s *Store) PayoutsSpeedDiffers(ctx context.Context, fn func(*Payout) error) error {
	q := s.db.Model(&Payout{}).Where("requested_speed IS NOT NULL AND effective_speed IS NOT NULL AND requested_speed <> effective_speed")
	return s.payoutsEach(ctx, q, fn)
}

// PayoutsOfUsersSince calls fn for payouts of the given users created at
// or after since.
func (s *Store) PayoutsOfUsersSince(ctx context.Context, users []string, since time.Time, fn func(*Payout) error) error {
	for len(users) > 0 {
		chunk := users[:min(len(users), 500)]
		users = users[len(chunk):]
		q := s.db.Model(&Payout{}).Where("user_id IN ? AND created_at >= ?", chunk, since.UTC())
		if err := s.payoutsEach(ctx, q, fn); err != nil {
			return err
		}
	}
	return nil
}

// PayoutsCreatedSince calls fn for payouts created at or after since.
func (s *Store) PayoutsCreatedSince(ctx context.Context, since time.Time, fn func(*Payout) error) error {
	return s.payoutsEach(ctx, s.db.Model(&Payout{}).Where("created_at >= ?", since.UTC()), fn)
}

// WalletMovement is what local payouts say moved through the wallet in an
// interval: debits for payouts made (amount and merchant fees), credits for
// failures refunded and returns completed.
type WalletMovement struct {
	PayoutsCents  int64 // amounts of payouts that reached Coinflow
	FeesCents     int64 // merchant fees of those payouts
	RefundedCents int64 // amount + merchant fee of failed payouts whose funds came back (failures and returns)
}

// walletDebits and walletCredits are the local evidence of wallet
// movement, one row per payout with the time it moved the wallet
// (moved_at), for WalletMovementBetween and WalletMovementsAt to sum.
const (
	walletDebits = `SELECT created_at AS moved_at, amount_cents AS amount, merchant_fees_cents AS fees FROM payouts
WHERE amount_currency = 'USD' AND coinflow_transaction IS NOT NULL`
	walletCredits = `SELECT COALESCE(p.returned_at, (SELECT MAX(h.created_at) FROM payout_history h
         WHERE h.payout_id = p.id AND h.applied AND h.to_status = 'failed')) AS moved_at,
       p.amount_cents + p.merchant_fees_cents AS cents
FROM payouts p
WHERE p.amount_currency = 'USD' AND p.status = 'failed' AND p.coinflow_transaction IS NOT NULL
  AND p.return_status = 'return_completed'`
)

// WalletMovementBetween sums local evidence of wallet movement in (from, to].
// A payout that reached Coinflow is debited (amount and merchant fee) at its
// creation: payoutd records a payout just before calling Coinflow, and a
// discovered payout carries Coinflow's creation time. A failed payout whose
// funds came back is credited at its return time (returned_at), or at its
// failure when Coinflow gave none. Amounts are the wallet's currency, USD.
func (s *Store) WalletMovementBetween(ctx context.Context, from, to time.Time) (WalletMovement, error) {
	var m WalletMovement
	from, to = from.UTC(), to.UTC()
	row := s.db.WithContext(ctx).Raw(`SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(fees), 0) FROM (`+walletDebits+`) d
WHERE moved_at > ? AND moved_at <= ?`, from, to).Row()
	if err := row.Scan(&m.PayoutsCents, &m.FeesCents); err != nil {
		return m, fmt.Errorf("sum payouts debited: %w", translate(err))
	}
	row = s.db.WithContext(ctx).Raw(`SELECT COALESCE(SUM(cents), 0) FROM (`+walletCredits+`) c
WHERE moved_at > ? AND moved_at <= ?`, from, to).Row()
	if err := row.Scan(&m.RefundedCents); err != nil {
		return m, fmt.Errorf("sum payouts refunded: %w", translate(err))
	}
	return m, nil
}

// WalletMovementsAt is WalletMovementBetween for each step of a series of
// times, in two scans however long the series: out[i] is the movement in
// (times[i-1], times[i]], and out[0] is zero. times must be ascending. A
// report over a year of five-minute wallet snapshots makes one pass over
// the year's payouts instead of two queries per snapshot.
func (s *Store) WalletMovementsAt(ctx context.Context, times []time.Time) ([]WalletMovement, error) {
	out := make([]WalletMovement, len(times))
	if len(times) < 2 {
		return out, nil
	}
	at := make([]time.Time, len(times))
	for i, t := range times {
		at[i] = t.UTC()
		if i > 0 && at[i].Before(at[i-1]) {
			return nil, fmt.Errorf("wallet movements: times not ascending at %d", i)
		}
	}
	// step is the i with at[i-1] < t <= at[i]. The queries keep t inside
	// (at[0], at[last]] as the database compares times; a time it compares
	// otherwise than Go does (SQLite compares stored text, exact only for
	// UTC) is an error, not a sum put in the wrong step.
	step := func(t time.Time) (int, error) {
		i := sort.Search(len(at), func(i int) bool { return !at[i].Before(t) })
		if i == 0 || i == len(at) {
			return 0, fmt.Errorf("wallet movements: %s is outside (%s, %s]", t, at[0], at[len(at)-1])
		}
		return i, nil
	}
	first, last := at[0], at[len(at)-1]
	err := s.eachTimedCents(ctx, "sum payouts debited",
		`SELECT moved_at, amount, fees FROM (`+walletDebits+`) d WHERE moved_at > ? AND moved_at <= ?`,
		[]any{first, last}, func(t time.Time, amount, fees int64) error {
			i, err := step(t)
			if err != nil {
				return err
			}
			out[i].PayoutsCents += amount
			out[i].FeesCents += fees
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = s.eachTimedCents(ctx, "sum payouts refunded",
		`SELECT moved_at, cents, 0 FROM (`+walletCredits+`) c WHERE moved_at > ? AND moved_at <= ?`,
		[]any{first, last}, func(t time.Time, cents, _ int64) error {
			i, err := step(t)
			if err != nil {
				return err
			}
			out[i].RefundedCents += cents
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachTimedCents runs a query of (time, cents, cents) rows and calls fn
// for each; fn's error ends the scan.
func (s *Store) eachTimedCents(ctx context.Context, what, query string, args []any, fn func(time.Time, int64, int64) error) error {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	var (
		t    dbTime
		a, b int64
	)
	for rows.Next() {
		if err := rows.Scan(&t, &a, &b); err != nil {
			return fmt.Errorf("%s: %w", what, translate(err))
		}
		if err := fn(t.Time, a, b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	return nil
}

// SumInFlight is the amount plus merchant fees of payouts not yet settled
// (requested, unknown, pending, in review), in USD cents.
func (s *Store) SumInFlight(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(SUM(amount_cents + merchant_fees_cents), 0) FROM payouts
WHERE amount_currency = 'USD' AND status IN ('requested', 'unknown', 'pending', 'in_review')`).Row().Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sum payouts in flight: %w", translate(err))
	}
	return n, nil
}

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

// FindingRef names one finding by id and subject.
type FindingRef struct {
	ID      string
	Subject string
}

// FindingsNotRaisedBy lists the unresolved findings of kind that run did
// not raise: the candidates for resolution once the run has checked their
// subjects.
func (s *Store) FindingsNotRaisedBy(ctx context.Context, kind FindingKind, runID string) ([]FindingRef, error) {
	var refs []FindingRef
	err := s.db.WithContext(ctx).Model(&Finding{}).Select("id", "subject").
		Where("kind = ? AND resolved_at IS NULL AND (last_run_id IS NULL OR last_run_id <> ?)", kind, runID).
		Order("id").Scan(&refs).Error
	if err != nil {
		return nil, fmt.Errorf("list %s findings not raised by run %s: %w", kind, runID, translate(err))
	}
	return refs, nil
}

// FindingsResolveInRun resolves, in run, the findings with the given ids
// that are still unresolved and that run did not raise again since they
// were listed. It returns how many it resolved.
func (s *Store) FindingsResolveInRun(ctx context.Context, ids []string, runID string) (int64, error) {
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
