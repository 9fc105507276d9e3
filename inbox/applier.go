package webhook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// ApplierConfig tunes the applier.
type ApplierConfig struct {
	BatchSize    int           // events claimed per transaction (default 100)
	PollInterval time.Duration // how often to look for work nobody announced (default 500ms)
	MaxAttempts  int           // failed applies before an event is parked (default 8)
	BaseBackoff  time.Duration // first retry delay, doubled per attempt (default 1s)
	MaxBackoff   time.Duration // retry delay cap (default 5m)
	NowFunc      func() time.Time
}

// Applier takes committed webhooks off the inbox and applies them to payouts
// and withdrawers. Each batch is one transaction: the events are claimed
// (FOR UPDATE SKIP LOCKED on PostgreSQL, so several processes can share an
// inbox), each is applied inside its own savepoint, and each is marked done
// in the same transaction as its effects, so an event is applied exactly
// once. An event that fails is rescheduled with backoff without holding up
// the events behind it, and parked with a finding after MaxAttempts.
type Applier struct {
	store   *models.Store
	log     *logrus.Entry
	metrics *metrics.Metrics
	cfg     ApplierConfig
	wake    chan struct{}
}

// NewApplier returns an applier; Run starts it.
func NewApplier(store *models.Store, log *logrus.Entry, m *metrics.Metrics, cfg ApplierConfig) *Applier {
	cfg.BatchSize = cmpOr(cfg.BatchSize, 100)
	cfg.PollInterval = cmpOr(cfg.PollInterval, 500*time.Millisecond)
	cfg.MaxAttempts = cmpOr(cfg.MaxAttempts, 8)
	cfg.BaseBackoff = cmpOr(cfg.BaseBackoff, time.Second)
	cfg.MaxBackoff = cmpOr(cfg.MaxBackoff, 5*time.Minute)
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	return &Applier{store: store, log: log, metrics: m, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Notify tells the applier that new events were committed.
func (a *Applier) Notify() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run applies events until ctx is done, finishing the batch in hand.
func (a *Applier) Run(ctx context.Context) {
	ticker := time.NewTicker(a.cfg.PollInterval)
	defer ticker.Stop()
	for {
		n, err := a.ApplyBatch(context.WithoutCancel(ctx))
		if err != nil {
			a.log.WithError(err).Warn("apply webhook batch")
		}
		if n == a.cfg.BatchSize && err == nil && ctx.Err() == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-ticker.C:
		}
	}
}

// Drain applies batches until none is due; for the CLI and tests.
func (a *Applier) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := a.ApplyBatch(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

type finished struct {
	eventType string
	outcome   models.InboxStatus
	received  time.Time
}

// errIsolate: the fast path met a failing event; redo the batch with each
// event in a savepoint.
var errIsolate = errors.New("an event failed; isolate events")

// ApplyBatch claims and processes one batch and returns how many events it
// claimed. The batch first runs without savepoints (the common case, every
// event applies); if any event fails, the whole transaction is rolled back
// and the batch is redone with each event in its own savepoint, so the
// failing one is rescheduled and the others still apply.
func (a *Applier) ApplyBatch(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	claimed, done, retried, err := a.applyBatch(ctx, false)
	if errors.Is(err, errIsolate) {
		claimed, done, retried, err = a.applyBatch(ctx, true)
	}
	if err != nil {
		return 0, fmt.Errorf("apply batch: %w", err)
	}
	now := a.cfg.NowFunc()
	for _, d := range done {
		a.metrics.WebhookEventsProcessed.WithLabelValues(EventTypeLabel(d.eventType), string(d.outcome)).Inc()
		if d.outcome == models.InboxApplied {
			a.metrics.ApplyLag.Observe(max(now.Sub(d.received).Seconds(), 0))
		}
	}
	a.metrics.WebhookApplyRetries.Add(float64(retried))
	return claimed, nil
}

func (a *Applier) applyBatch(ctx context.Context, isolate bool) (claimed int, done []finished, retried int, err error) {
	err = a.store.Tx(ctx, func(tx *models.Store) error {
		done, retried = done[:0], 0
		evs, err := tx.InboxClaim(ctx, a.cfg.BatchSize)
		if err != nil {
			return err
		}
		claimed = len(evs)
		finish := map[models.InboxStatus][]int64{}
		for i := range evs {
			ev := &evs[i]
			var outcome models.InboxStatus
			run := func() error {
				var err error
				outcome, err = a.process(ctx, tx, ev)
				return err
			}
			if !isolate {
				if err := run(); err != nil {
					return fmt.Errorf("%w: %w", errIsolate, err)
				}
			} else if err := tx.Savepoint(ctx, "apply_event", run); err != nil {
				parked, perr := a.failed(ctx, tx, ev, err)
				if perr != nil {
					return perr
				}
				if !parked {
					retried++
					continue
				}
				outcome = models.InboxParked
			}
			if outcome == models.InboxApplied || outcome == models.InboxIgnored {
				finish[outcome] = append(finish[outcome], ev.ID)
			}
			done = append(done, finished{eventType: ev.EventType, outcome: outcome, received: ev.ReceivedAt})
		}
		for status, ids := range finish {
			if err := tx.InboxFinishMany(ctx, ids, status); err != nil {
				return err
			}
		}
		return nil
	})
	return claimed, done, retried, err
}

// process decides and applies one event. Applied and ignored events are
// marked finished by the caller, in one statement per batch; an
// unprocessable one is marked here, with its reason. Errors are transient
// (the database); anything about the body itself is an outcome.
func (a *Applier) process(ctx context.Context, tx *models.Store, ev *models.InboxEvent) (models.InboxStatus, error) {
	decoded, err := Decode(ev.Body)
	switch {
	case errors.Is(err, ErrUntracked):
		return models.InboxIgnored, nil
	case errors.Is(err, ErrUnprocessable):
		if ferr := a.raiseUnprocessable(ctx, tx, ev, err.Error()); ferr != nil {
			return "", ferr
		}
		a.log.WithFields(logrus.Fields{"inbox_event_id": ev.ID, "reason": err.Error()}).Warn("unprocessable webhook")
		return models.InboxUnprocessable, tx.InboxFinish(ctx, ev.ID, models.InboxUnprocessable, err.Error())
	case err != nil:
		return "", err
	}
	switch e := decoded.(type) {
	case *WithdrawEvent:
		err = a.applyWithdraw(ctx, tx, ev.ID, e)
	case *KYCEvent:
		err = a.applyKYC(ctx, tx, ev.ID, e)
	default:
		err = fmt.Errorf("decoded %T", decoded)
	}
	if err != nil {
		return "", err
	}
	return models.InboxApplied, nil
}

func (a *Applier) applyWithdraw(ctx context.Context, tx *models.Store, inboxID int64, e *WithdrawEvent) error {
	evidence := models.PayoutEvidence{Status: e.Status, Detail: e.Detail, At: e.Created, Source: models.SourceWebhook}
	p, err := tx.PayoutForUpdate(ctx, e.Signature, e.IdempotencyKey)
	if errors.Is(err, models.ErrNotFound) {
		return a.discover(ctx, tx, inboxID, e, e.IdempotencyKey)
	}
	if err != nil {
		return err
	}
	if p.CoinflowTransaction != nil && *p.CoinflowTransaction != e.Signature {
		// The idempotency key is another withdrawal's: two withdrawals claim
		// one key. Keep this one apart and let a person look.
		if err := a.discover(ctx, tx, inboxID, e, ""); err != nil {
			return err
		}
		_, _, err := tx.FindingRaise(ctx, models.Finding{
			Kind: models.KindStatusMismatch, Subject: "idempotency:" + e.IdempotencyKey, Severity: models.SeverityError,
			PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"reason": "idempotency_key_reused", "source": models.SourceWebhook, "inbox_event_id": inboxID},
		})
		return err
	}
	if p.CoinflowTransaction == nil {
		if err := tx.PayoutUpdateFields(ctx, p.ID, map[string]any{"coinflow_transaction": e.Signature}); err != nil {
			return err
		}
	}
	extra := map[string]any{
		"user_fees_cents": e.UserFees.Cents, "user_fees_currency": e.UserFees.Currency,
		"merchant_fees_cents": e.MerchantFees.Cents, "merchant_fees_currency": e.MerchantFees.Currency,
	}
	ch, err := tx.PayoutApply(ctx, p, evidence, &inboxID, extra)
	if err != nil {
		return err
	}
	if ch.Conflict {
		return a.raiseTerminalConflict(ctx, tx, p, inboxID, ch, e)
	}
	return nil
}

// raiseTerminalConflict records money that changed its mind: a success and
// a failure for one payout. It is raised whichever arrived first, so the
// finding does not depend on delivery order.
func (a *Applier) raiseTerminalConflict(ctx context.Context, tx *models.Store, p *models.Payout, inboxID int64, ch models.PayoutChange, e *WithdrawEvent) error {
	_, _, err := tx.FindingRaise(ctx, models.Finding{
		// Its own subject: reconciliation resolves disagreements it no longer
		// sees, but money that changed its mind stays for a person.
		Kind: models.KindStatusMismatch, Subject: "terminal:" + p.ID, Severity: models.SeverityError, PayoutID: &p.ID, UserID: &p.UserID,
		Details: models.Details{
			"reason": "terminal_status_changed", "source": models.SourceWebhook, "event_type": e.Type,
			"status": p.Status, "evidence_status": e.Status, "applied": ch.Apply, "inbox_event_id": inboxID,
		},
	})
	if err == nil {
		a.log.WithFields(logrus.Fields{"payout_id": p.ID, "status": p.Status, "evidence_status": e.Status}).Warn("payout changed terminal status")
	}
	return err
}

// discover records a withdrawal payoutd did not initiate or has not matched.
func (a *Applier) discover(ctx context.Context, tx *models.Store, inboxID int64, e *WithdrawEvent, idempotencyKey string) error {
	p := &models.Payout{
		IdempotencyKey: nonEmpty(idempotencyKey), UserID: e.UserID, Amount: e.Total,
		Status: e.Status, StatusDetail: nonEmpty(e.Detail), StatusAt: e.Created,
		CoinflowTransaction: &e.Signature, UserFees: e.UserFees, MerchantFees: e.MerchantFees,
		Source: models.OriginDiscovered,
	}
	if err := tx.PayoutCreate(ctx, p, models.SourceWebhook, &inboxID); err != nil {
		return err
	}
	a.log.WithFields(logrus.Fields{"payout_id": p.ID, "status": p.Status}).Info("discovered payout from webhook")
	return nil
}

func (a *Applier) applyKYC(ctx context.Context, tx *models.Store, inboxID int64, e *KYCEvent) error {
	_, err := tx.WithdrawerApply(ctx,
		models.WithdrawerIdentity{UserID: e.UserID, Wallet: e.Wallet, Blockchain: e.Blockchain, EmailMasked: e.EmailMasked},
		models.WithdrawerEvidence{Status: e.Status, At: e.Created, Source: models.SourceWebhook}, &inboxID)
	return err
}

func (a *Applier) raiseUnprocessable(ctx context.Context, tx *models.Store, ev *models.InboxEvent, reason string) error {
	_, _, err := tx.FindingRaise(ctx, models.Finding{
		Kind: models.KindWebhookUnprocessable, Subject: "inbox:" + strconv.FormatInt(ev.ID, 10), Severity: models.SeverityWarning,
		Details: models.Details{"inbox_event_id": ev.ID, "event_type": ev.EventType, "reason": reason},
	})
	return err
}

// failed reschedules an event whose apply failed, or parks it after
// MaxAttempts. It reports whether the event was parked.
func (a *Applier) failed(ctx context.Context, tx *models.Store, ev *models.InboxEvent, cause error) (bool, error) {
	attempts := ev.Attempts + 1
	log := a.log.WithFields(logrus.Fields{"inbox_event_id": ev.ID, "attempts": attempts}).WithError(cause)
	if attempts < a.cfg.MaxAttempts {
		log.Warn("apply webhook event; will retry")
		// The store's clock decides when the event is due again; schedule by it.
		return false, tx.InboxRetryLater(ctx, ev.ID, attempts, tx.Now().Add(a.backoff(attempts)), cause.Error())
	}
	log.Error("apply webhook event; parked")
	if err := a.raiseUnprocessable(ctx, tx, ev, "apply failed "+strconv.Itoa(attempts)+" times; parked"); err != nil {
		return false, err
	}
	return true, tx.InboxFinish(ctx, ev.ID, models.InboxParked, cause.Error())
}

// backoff doubles per attempt up to MaxBackoff, with jitter so that events
// failing together do not retry together.
func (a *Applier) backoff(attempts int) time.Duration {
	d := a.cfg.BaseBackoff << min(attempts-1, 30)
	if d <= 0 || d > a.cfg.MaxBackoff {
		d = a.cfg.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
