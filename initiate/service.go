// Package initiate is payout initiation through payoutd: it records the
// payout under its idempotency key before Coinflow is called, quotes, pays
// and stores what Coinflow answered (signature, effective speed, fees), so
// that payoutd knows what the merchant asked for and a crash or timeout in
// between is settled by the key, never by paying twice.
package initiate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/rail"
)

// Errors the API maps to answers. Where a payout was recorded, Result.Payout
// holds it even with an error.
var (
	ErrIdempotencyMismatch = errors.New("idempotency key was used for a different payout")
	ErrWithdrawerBlocked   = errors.New("withdrawer is blocked at Coinflow")
	ErrUnknownAccount      = errors.New("account is not a saved destination of this withdrawer")
	ErrInsufficientFunds   = errors.New("insufficient funds in the Coinflow wallet")
	ErrRejected            = errors.New("coinflow rejected the payout")
	ErrUnavailable         = errors.New("coinflow unavailable")
	ErrInProgress          = errors.New("payout is being initiated by another request")
	ErrOverLimit           = errors.New("amount is above the limit Coinflow quotes for this speed")
)

// VerificationError is the withdrawer's verification outstanding at
// Coinflow; Link is where the user completes it.
type VerificationError struct {
	Link   string
	Status string
}

func (e *VerificationError) Error() string { return "withdrawer must complete verification" }

// Result is what Initiate did.
type Result struct {
	Payout  *models.Payout
	Created bool // a new payout was recorded by this call
}

// Config tunes the service.
type Config struct {
	// Lease bounds how long one request may drive a payout before another
	// may take over (default 2m: longer than the client's retries).
	Lease time.Duration
}

// Service initiates payouts.
type Service struct {
	store *models.Store
	cf    *coinflow.Client
	ob    *onboard.Service
	log   *logrus.Entry
	cfg   Config
}

// New returns the service. ob is the withdrawer and destination side of
// the flow, on the same Coinflow client.
func New(store *models.Store, cf *coinflow.Client, ob *onboard.Service, log *logrus.Entry, cfg Config) (*Service, error) {
	if cfg.Lease < 0 {
		return nil, errors.New("initiate: Lease is negative")
	}
	if ob == nil {
		return nil, errors.New("initiate: no onboarding service")
	}
	cfg.Lease = cmp.Or(cfg.Lease, 2*time.Minute)
	return &Service{store: store, cf: cf, ob: ob, log: log, cfg: cfg}, nil
}

// Initiate pays req out once per idempotency key. A repeated key returns
// the payout already recorded (and resumes it when an earlier attempt never
// learned Coinflow's answer).
func (s *Service) Initiate(ctx context.Context, req Request) (Result, error) {
	if req.IdempotencyKey == "" {
		req.IdempotencyKey = uuid.NewString()
	}
	fp := req.fingerprint()
	existing, err := s.store.PayoutByIdempotencyKey(ctx, req.IdempotencyKey)
	switch {
	case err == nil:
		return s.repeat(ctx, existing, req, fp)
	case !errors.Is(err, models.ErrNotFound):
		return Result{}, err
	}

	quote, err := s.preflight(ctx, req)
	if err != nil {
		return Result{}, err
	}

	p := &models.Payout{
		IdempotencyKey: &req.IdempotencyKey, UserID: req.UserID, Amount: req.Amount,
		RequestedSpeed: &req.Speed, Status: models.StatusRequested, AccountToken: &req.Account,
		Source: models.OriginAPI, RequestFingerprint: &fp,
	}
	if quote.WalletDebit.Currency == "USD" {
		p.WalletDebitCents = &quote.WalletDebit.Cents
	}
	lease := s.store.Now().Add(s.cfg.Lease)
	p.InitiationLeaseUntil = &lease
	if err := s.store.PayoutCreate(ctx, p, models.SourceAPI, nil); err != nil {
		if errors.Is(err, models.ErrConflict) {
			// A concurrent request with the same key recorded it first; it
			// holds the lease and pays. This one only reports.
			existing, gerr := s.store.PayoutByIdempotencyKey(ctx, req.IdempotencyKey)
			if gerr != nil {
				return Result{}, gerr
			}
			return s.repeat(ctx, existing, req, fp)
		}
		return Result{}, err
	}
	reqlog.Entry(ctx, s.log).WithFields(logrus.Fields{"payout_id": p.ID, "user_id": p.UserID, "cents": p.Amount.Cents, "speed": req.Speed}).
		Info("payout recorded")
	err = s.drive(ctx, p, req, quote)
	return Result{Payout: p, Created: true}, err
}

// repeat answers a known idempotency key.
func (s *Service) repeat(ctx context.Context, p *models.Payout, req Request, fp string) (Result, error) {
	if p.RequestFingerprint != nil && *p.RequestFingerprint != fp {
		return Result{Payout: p}, ErrIdempotencyMismatch
	}
	if p.Status != models.StatusRequested && p.Status != models.StatusUnknown {
		return Result{Payout: p}, nil
	}
	ok, err := s.store.PayoutLeaseInitiation(ctx, p.ID, s.store.Now().Add(s.cfg.Lease))
	if err != nil {
		return Result{Payout: p}, err
	}
	if !ok {
		return Result{Payout: p}, ErrInProgress
	}
	// Resuming with the same key is safe: Coinflow answers a replay with the
	// original payout.
	err = s.drive(ctx, p, req, nil)
	return Result{Payout: p}, err
}

// preflight checks everything that can refuse the payout before it is
// recorded, so that a refusal stores nothing and pays nothing:
//   - the destination, where payoutd knows it: not deleted, offering the
//     speed, in the amount's currency (no Coinflow call);
//   - Coinflow's current word on the withdrawer (GET /withdraw): verified,
//     not blocked, the destination still saved;
//   - the quote: the speed available and the amount within its limit;
//   - the wallet: its balance less what is in flight covers the debit.
//
// Two payouts passing the wallet check at once may together exceed it;
// Coinflow's own 402 then refuses the second.
func (s *Service) preflight(ctx context.Context, req Request) (*onboard.QuoteEntry, error) {
	if d, err := s.store.DestinationGet(ctx, req.UserID, req.Account); err == nil {
		if err := onboard.Payable(d, req.Speed, req.Amount); err != nil {
			return nil, err
		}
	} else if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	if err := s.ob.Refresh(ctx, req.UserID); err != nil {
		return nil, s.refusal(err)
	}
	w, err := s.ob.Approved(ctx, req.UserID)
	if err != nil {
		return nil, s.refusal(err)
	}
	if w.Blocked {
		return nil, ErrWithdrawerBlocked
	}
	d, err := s.ob.Destination(ctx, req.UserID, req.Account)
	if err != nil {
		return nil, s.refusal(err)
	}
	if err := onboard.Payable(d, req.Speed, req.Amount); err != nil {
		return nil, err
	}
	q, err := s.ob.QuoteSpeed(ctx, onboard.QuoteRequest{UserID: req.UserID, Amount: req.Amount, Account: req.Account}, req.Speed)
	if err != nil {
		return nil, s.refusal(err)
	}
	// Same-day ACH above NACHA's limit is not refused: Coinflow pays it
	// standard, so the standard limit is the one that applies.
	limit := q.Limit
	if rail.NACHADowngrade(req.Speed, rail.Standard, req.Amount.Currency, req.Amount.Cents) {
		limit = q.LimitAt(rail.Standard)
	}
	switch {
	case limit.Cents <= 0:
		// Coinflow quotes a rail the merchant or the user cannot use with
		// a zero limit.
		return nil, onboard.ErrSpeedNotOffered
	case limit.Currency == req.Amount.Currency && req.Amount.Cents > limit.Cents:
		return nil, ErrOverLimit
	}
	if err := s.coverable(ctx, q); err != nil {
		return nil, err
	}
	return q, nil
}

// coverable checks the wallet's balance, less what is in flight to it (the
// payouts recorded here that Coinflow has not debited yet), against the
// quoted USD debit.
func (s *Service) coverable(ctx context.Context, q *onboard.QuoteEntry) error {
	if q.WalletDebit.Currency != "USD" {
		return nil // nothing to compare a non-USD debit with; Coinflow's 402 decides
	}
	balance, err := s.cf.Balance(ctx)
	if err != nil {
		return classify(err)
	}
	inFlight, err := s.store.PayoutSumUndebited(ctx)
	if err != nil {
		return err
	}
	// A payout on its way that was never priced in USD cannot be counted:
	// Coinflow's own 402 covers it.
	free, err := models.SubCents(balance, inFlight.Cents)
	if err != nil || free < q.WalletDebit.Cents {
		return ErrInsufficientFunds
	}
	return nil
}

// refusal maps what the onboarding side says to initiation's errors.
func (s *Service) refusal(err error) error {
	if verr, ok := errors.AsType[*onboard.VerificationError](err); ok {
		return &VerificationError{Link: verr.Link, Status: verr.Status}
	}
	switch {
	case errors.Is(err, onboard.ErrUnknownAccount), errors.Is(err, onboard.ErrNotRegistered):
		return ErrUnknownAccount
	case errors.Is(err, models.ErrNotFound):
		// Coinflow does not know the withdrawer: none of its destinations
		// can be this account.
		return ErrUnknownAccount
	case errors.Is(err, onboard.ErrUnavailable), errors.Is(err, onboard.ErrRateLimited):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.Is(err, onboard.ErrRejected):
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

// classify maps a Coinflow error that is not about the payout itself.
func classify(err error) error {
	switch {
	case errors.Is(err, coinflow.ErrNotFound), errors.Is(err, coinflow.ErrRejected):
		return fmt.Errorf("%w: %w", ErrRejected, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// drive quotes and pays a recorded payout and stores the outcome. It must
// hold the payout's initiation lease. Writes after the pay call outlive the
// caller's cancellation: what Coinflow said must be recorded.
func (s *Service) drive(ctx context.Context, p *models.Payout, req Request, quote *onboard.QuoteEntry) error {
	amount := coinflow.Amount{Cents: req.Amount.Cents, Currency: req.Amount.Currency}
	if quote == nil {
		// A resumed payout: its first quote is gone.
		var err error
		quote, err = s.ob.QuoteSpeed(ctx, onboard.QuoteRequest{UserID: req.UserID, Amount: req.Amount, Account: req.Account}, req.Speed)
		if err != nil {
			// Nothing was sent to pay: the payout stays requested, and a
			// repeat of the key resumes it.
			return s.payError(context.WithoutCancel(ctx), p, fmt.Errorf("quote payout: %w", err), false)
		}
	}
	resp, err := s.cf.Payout(ctx, coinflow.PayoutRequest{
		IdempotencyKey: req.IdempotencyKey, Speed: req.Speed, Account: req.Account, UserID: req.UserID, Amount: amount,
	})
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		return s.payError(ctx, p, fmt.Errorf("pay payout: %w", err), true)
	}
	return s.accepted(ctx, p, req, quote, resp)
}

// record has package decide apply what initiation learned (api evidence)
// to the payout recorded under key, and releases the initiation lease, in
// one transaction.
func (s *Service) record(ctx context.Context, key string, ev decide.Withdrawal) error {
	ev.Source, ev.IdempotencyKey = models.SourceAPI, key
	return s.store.Tx(ctx, func(tx *models.Store) error {
		c, err := tx.PayoutCandidatesFor(ctx, ev.Transaction, key)
		if err != nil {
			return err
		}
		if ev.At.IsZero() {
			ev.At = tx.Now()
		}
		d, err := decide.Payout(c, ev, models.NewID)
		if errors.Is(err, decide.ErrNoPayout) && c.ByKey != nil {
			return fmt.Errorf("payout %s already has another transaction: %w", c.ByKey.ID, models.ErrConflict)
		}
		if err != nil {
			return err
		}
		if _, err := tx.PayoutWrite(ctx, d.Write); err != nil {
			return err
		}
		return tx.PayoutLeaseRelease(ctx, d.Write.New.ID)
	})
}

// accepted records Coinflow's 200: the signature, the effective speed, the
// quoted fees and delivery date, and status pending.
func (s *Service) accepted(ctx context.Context, p *models.Payout, req Request, q *onboard.QuoteEntry, resp *coinflow.PayoutResponse) error {
	ev := decide.Withdrawal{
		Transaction: resp.Signature, Status: models.StatusPending, EffectiveSpeed: resp.EffectiveSpeed,
		MerchantFees: q.MerchantFee,
	}
	if q.WalletDebit.Currency == "USD" {
		ev.WalletDebit = &q.WalletDebit.Cents
	}
	if fee, expected, ok := q.At(resp.EffectiveSpeed); ok {
		ev.UserFees, ev.ExpectedAt = fee, expected
	}
	if err := s.record(ctx, req.IdempotencyKey, ev); err != nil {
		// Coinflow has the payout; reconciliation will match it by key.
		return fmt.Errorf("record accepted payout %s: %w", p.ID, err)
	}
	reqlog.Entry(ctx, s.log).WithFields(logrus.Fields{"payout_id": p.ID, "speed": req.Speed, "effective_speed": resp.EffectiveSpeed}).Info("payout accepted by Coinflow")
	return s.reload(ctx, p)
}

// payError records what a failed quote or pay call means for the payout.
func (s *Service) payError(ctx context.Context, p *models.Payout, err error, paySent bool) error {
	apiErr, isAPI := errors.AsType[*coinflow.APIError](err)
	obVerr, obVerification := errors.AsType[*onboard.VerificationError](err)
	var (
		status models.PayoutStatus
		detail string
		out    error
	)
	switch {
	case obVerification:
		// A resumed payout's quote found the withdrawer unverified.
		status, detail = models.StatusFailed, "verification_required"
		out = &VerificationError{Link: obVerr.Link, Status: obVerr.Status}
	case errors.Is(err, coinflow.ErrInsufficientFunds):
		status, detail, out = models.StatusFailed, "insufficient_funds", ErrInsufficientFunds
	case errors.Is(err, coinflow.ErrBlocked):
		status, detail, out = models.StatusFailed, "withdrawer_blocked", ErrWithdrawerBlocked
	case errors.Is(err, coinflow.ErrVerificationRequired):
		status, detail = models.StatusFailed, "verification_required"
		out = &VerificationError{}
		if isAPI {
			out = &VerificationError{Link: apiErr.VerificationLink, Status: apiErr.VerificationStatus}
		}
	case errors.Is(err, coinflow.ErrRateLimited) && isAPI && !apiErr.OutcomeUnknown():
		// 429: Coinflow refused to look at it; nothing was paid.
		out = fmt.Errorf("%w: %w", ErrUnavailable, err)
	case paySent && (!isAPI || apiErr.OutcomeUnknown()):
		// Timeout, 5xx, a garbled answer, or our caller gone: the payout may
		// exist at Coinflow. Reconciliation settles it by the key.
		status, out = models.StatusUnknown, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case !paySent && (!isAPI || apiErr.Retryable() || apiErr.OutcomeUnknown()):
		out = fmt.Errorf("%w: %w", ErrUnavailable, err)
	default:
		status, detail, out = models.StatusFailed, "rejected_by_coinflow", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if status == "" {
		// Nothing changed at Coinflow: the payout stays as it was, and a
		// repeat of the key resumes it.
		if err := s.store.PayoutLeaseRelease(ctx, p.ID); err != nil {
			return errors.Join(out, err)
		}
		p.InitiationLeaseUntil = nil
		return out
	}
	if werr := s.record(ctx, *p.IdempotencyKey, decide.Withdrawal{Status: status, Detail: detail}); werr != nil {
		return errors.Join(out, fmt.Errorf("record payout outcome: %w", werr))
	}
	if rerr := s.reload(ctx, p); rerr != nil {
		return errors.Join(out, rerr)
	}
	return out
}

func (s *Service) reload(ctx context.Context, p *models.Payout) error {
	cur, err := s.store.PayoutGet(ctx, p.ID)
	if err != nil {
		return err
	}
	*p = *cur
	return nil
}
