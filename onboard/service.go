// Package onboard is the first half of Coinflow's payout flow, done through
// payoutd: registering a withdrawer for KYC, saving and deleting where the
// money goes, session keys for the withdrawer's front end, and quotes. It
// records what Coinflow answers through package decide, like every other
// piece of evidence, and keeps nothing of the identity or account details
// it passes on: no SSN, date of birth, account number, card token or PIX
// key is stored, logged or echoed.
package onboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// Errors the API maps to answers.
var (
	ErrAlreadyRegistered = errors.New("withdrawer is already registered")
	ErrNotRegistered     = errors.New("withdrawer is not registered with payoutd")
	ErrUnknownAccount    = errors.New("account is not a saved destination of this withdrawer")
	ErrDeleted           = errors.New("destination was deleted")
	ErrSpeedNotOffered   = errors.New("destination does not offer this speed")
	ErrCurrencyMismatch  = errors.New("amount currency is not the destination's currency")
	ErrAddressRequired   = errors.New("coinflow needs the card holder's address")
	ErrBICRequired       = errors.New("coinflow needs the BIC of this IBAN")
	ErrRateLimited       = errors.New("coinflow rate limit reached")
	ErrRejected          = errors.New("coinflow rejected the request")
	ErrUnavailable       = errors.New("coinflow unavailable")
)

// VerificationError is a withdrawer whose verification has not been
// approved; Link is Coinflow's hosted page while one is pending.
type VerificationError struct {
	Status string
	Link   string
}

func (e *VerificationError) Error() string { return "withdrawer verification is " + e.Status }

// Config tunes the service.
type Config struct {
	// FirstCheck is how soon after registration a pending withdrawer is
	// first asked about (default 1m); later checks back off (package kyc).
	FirstCheck time.Duration
	// SessionKeyLife is how long Coinflow's session keys live (default 24h,
	// Coinflow's documented life) and SessionKeyMargin how long before the
	// end a cached key stops being handed out (default 1h).
	SessionKeyLife, SessionKeyMargin time.Duration
}

// Service registers withdrawers and their destinations through Coinflow.
type Service struct {
	store *models.Store
	cf    *coinflow.Client
	log   *logrus.Entry
	cfg   Config
	keys  *keyCache
}

// New returns the service.
func New(store *models.Store, cf *coinflow.Client, log *logrus.Entry, cfg Config) (*Service, error) {
	if cfg.FirstCheck < 0 || cfg.SessionKeyLife < 0 || cfg.SessionKeyMargin < 0 {
		return nil, errors.New("onboard: a duration is negative")
	}
	cfg.FirstCheck = cmp.Or(cfg.FirstCheck, time.Minute)
	cfg.SessionKeyLife = cmp.Or(cfg.SessionKeyLife, 24*time.Hour)
	cfg.SessionKeyMargin = cmp.Or(cfg.SessionKeyMargin, time.Hour)
	if cfg.SessionKeyMargin >= cfg.SessionKeyLife {
		return nil, errors.New("onboard: SessionKeyMargin must be shorter than SessionKeyLife")
	}
	return &Service{store: store, cf: cf, log: log, cfg: cfg, keys: newKeyCache()}, nil
}

// classify maps a Coinflow error that no caller branches on more finely.
func classify(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, coinflow.ErrRateLimited):
		return fmt.Errorf("%w: %w", ErrRateLimited, err)
	case errors.Is(err, coinflow.ErrUnavailable), errors.Is(err, coinflow.ErrMalformedResponse):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if _, ok := errors.AsType[*coinflow.APIError](err); ok {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

// Withdrawer is a withdrawer with its destinations, as payoutd knows them.
type Withdrawer struct {
	*models.Withdrawer
	Destinations []models.Destination
}

// Get loads a withdrawer and its destinations; refresh asks Coinflow first.
func (s *Service) Get(ctx context.Context, userID string, refresh bool) (*Withdrawer, error) {
	if refresh {
		if err := s.Refresh(ctx, userID); err != nil {
			return nil, err
		}
	}
	w, err := s.store.WithdrawerGet(ctx, userID)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.DestinationsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &Withdrawer{Withdrawer: w, Destinations: ds}, nil
}

// Refresh asks Coinflow for the withdrawer (GET /withdraw) and records what
// it says: the verification (and the link while pending) and, once
// approved, every saved destination. A withdrawer payoutd does not know is
// recorded when Coinflow knows it.
func (s *Service) Refresh(ctx context.Context, userID string) error {
	// Coinflow's answer speaks for the moment it was asked: a KYC webhook
	// applied while the call was out is newer and wins.
	asked := s.store.Now()
	w, err := s.cf.GetWithdrawer(ctx, userID)
	if err != nil {
		apiErr, ok := errors.AsType[*coinflow.APIError](err)
		if ok && errors.Is(err, coinflow.ErrVerificationRequired) {
			status := models.VerificationStatus(cmp.Or(apiErr.VerificationStatus, string(models.VerificationPending)))
			return s.recordAt(ctx, decide.Verification{UserID: userID, Status: status, Link: apiErr.VerificationLink}, asked, true)
		}
		if errors.Is(err, coinflow.ErrNotFound) {
			return fmt.Errorf("withdrawer %s at Coinflow: %w", userID, models.ErrNotFound)
		}
		return classify(err)
	}
	if err := s.recordAt(ctx, VerificationOf(&w.Withdrawer), asked, true); err != nil {
		return err
	}
	return s.syncDestinations(ctx, userID, w)
}

// VerificationOf is what Coinflow's withdrawer record says (no source,
// time or sync mark: the caller sets them).
func VerificationOf(w *coinflow.Withdrawer) decide.Verification {
	blocked := w.Blocked()
	v := decide.Verification{
		UserID: w.UserID(), Wallet: w.Wallet, Blockchain: w.Blockchain,
		Status:  models.VerificationStatus(cmp.Or(w.Verification.Status, string(models.VerificationPending))),
		Blocked: &blocked, Country: w.Country, Currency: cmp.Or(w.Currency, w.OriginalCurrency),
	}
	if w.Email != "" {
		v.EmailMasked = models.MaskEmail(w.Email)
	}
	return v
}

// record has package decide apply v, Coinflow's answer to a call payoutd
// made; synced marks v as Coinflow's whole record read now.
func (s *Service) record(ctx context.Context, v decide.Verification, synced bool) error {
	return s.recordAt(ctx, v, s.store.Now(), synced)
}

// recordAt is record of evidence that speaks for the time at.
func (s *Service) recordAt(ctx context.Context, v decide.Verification, at time.Time, synced bool) error {
	v.Source, v.At = models.SourceAPI, at
	if synced {
		v.SyncedAt = &v.At
	}
	_, err := Record(ctx, s.store, v, nil)
	return err
}

// Record has package decide apply v to the withdrawer in one transaction,
// deciding again once if a concurrent writer got there first, and reports
// whether anything finance can see changed. runID names the
// reconciliation run behind it, if any.
func Record(ctx context.Context, store *models.Store, v decide.Verification, runID *string) (bool, error) {
	var changed bool
	write := func() error {
		return store.Tx(ctx, func(tx *models.Store) error {
			cur, err := tx.WithdrawerForUpdate(ctx, v.UserID)
			if err != nil {
				return err
			}
			d := decide.Withdrawer(cur, v)
			d.Write.RunID = runID
			changed = d.Changed
			_, err = tx.WithdrawerWrite(ctx, d.Write)
			return err
		})
	}
	err := write()
	if errors.Is(err, models.ErrConflict) {
		err = write()
	}
	if err != nil {
		return false, fmt.Errorf("record withdrawer %s: %w", v.UserID, err)
	}
	return changed, nil
}

// decideVerification is the evidence of a verification refusal.
func decideVerification(userID string, e *VerificationError) decide.Verification {
	return decide.Verification{UserID: userID, Status: models.VerificationStatus(e.Status), Link: e.Link}
}
