package onboard

import (
	"context"
	"errors"
	"time"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/models"
)

// QuoteRequest asks what paying Amount to the destination Account would
// cost at each speed it offers.
type QuoteRequest struct {
	UserID  string
	Amount  models.Money
	Account string
}

// QuoteEntry is one speed's terms. Fee is Coinflow's fee for the speed and
// MerchantFee the part the merchant pays; UserReceives is in the
// destination's currency and WalletDebit in USD, what leaves the wallet.
type QuoteEntry struct {
	Speed              string
	Fee                models.Money
	MerchantFee        models.Money
	UserReceives       models.Money
	WalletDebit        models.Money
	ExpectedDeliveryAt *time.Time
	Limit              models.Money

	quote *coinflow.Quote // every speed's terms, for At
}

// At gives another speed's fee and expected delivery from the same quote
// (the speed Coinflow really takes may differ from the one asked for).
func (e *QuoteEntry) At(speed string) (models.Money, *time.Time, bool) {
	if e.quote == nil {
		return models.Money{}, nil, false
	}
	sq, ok := e.quote.Speeds[speed]
	if !ok {
		return models.Money{}, nil, false
	}
	return money(sq.Fee), isoTime(sq.ExpectedDeliveryDateISO), true
}

// LimitAt gives another speed's limit from the same quote.
func (e *QuoteEntry) LimitAt(speed string) models.Money {
	if e.quote == nil {
		return models.Money{}
	}
	return money(e.quote.Speeds[speed].Limit)
}

func isoTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// Destination returns the withdrawer's destination token as payoutd knows
// it, asking Coinflow (GET /withdraw) only when payoutd does not know it
// yet (a destination saved outside payoutd). ErrUnknownAccount when it is
// not the withdrawer's.
func (s *Service) Destination(ctx context.Context, userID, token string) (*models.Destination, error) {
	d, err := s.store.DestinationGet(ctx, userID, token)
	if err == nil {
		return d, nil
	}
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	if err := s.Refresh(ctx, userID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, ErrUnknownAccount
		}
		return nil, err
	}
	d, err = s.store.DestinationGet(ctx, userID, token)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrUnknownAccount
	}
	return d, err
}

// Payable checks that the destination may take amount at speed: not
// deleted, offering the speed, in the amount's currency.
func Payable(d *models.Destination, speed string, amount models.Money) error {
	switch {
	case d.DeletedAt != nil:
		return ErrDeleted
	case speed != "" && !d.Offers(speed):
		return ErrSpeedNotOffered
	case amount.Currency != d.Currency:
		return ErrCurrencyMismatch
	}
	return nil
}

// Approved returns the withdrawer when its verification is approved, a
// *VerificationError when it is not, ErrNotRegistered when payoutd does not
// know it.
func (s *Service) Approved(ctx context.Context, userID string) (*models.Withdrawer, error) {
	w, err := s.store.WithdrawerGet(ctx, userID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrNotRegistered
	}
	if err != nil {
		return nil, err
	}
	if w.VerificationStatus != models.VerificationApproved {
		return nil, &VerificationError{Status: string(w.VerificationStatus), Link: models.Deref(w.VerificationLink)}
	}
	return w, nil
}

// Quote quotes r at every speed its destination offers, one Coinflow quote
// per speed (each carries the totals for that speed). r must be valid.
func (s *Service) Quote(ctx context.Context, r QuoteRequest) ([]QuoteEntry, error) {
	if _, err := s.Approved(ctx, r.UserID); err != nil {
		return nil, err
	}
	d, err := s.Destination(ctx, r.UserID, r.Account)
	if err != nil {
		return nil, err
	}
	if err := Payable(d, "", r.Amount); err != nil {
		return nil, err
	}
	out := make([]QuoteEntry, 0, len(d.SpeedList()))
	for _, speed := range d.SpeedList() {
		e, err := s.QuoteSpeed(ctx, r, speed)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, nil
}

// QuoteSpeed asks Coinflow for one speed's terms.
func (s *Service) QuoteSpeed(ctx context.Context, r QuoteRequest, speed string) (*QuoteEntry, error) {
	q, err := s.cf.Quote(ctx, coinflow.QuoteRequest{
		Speed: speed, Account: r.Account, UserID: r.UserID, Amount: coinflow.Amount{Cents: r.Amount.Cents, Currency: r.Amount.Currency},
	})
	if errors.Is(err, coinflow.ErrVerificationRequired) {
		return nil, s.verificationRequired(ctx, r.UserID, err)
	}
	if err != nil {
		return nil, classify(err)
	}
	sq := q.Speeds[speed]
	e := &QuoteEntry{
		Speed: speed, Fee: money(sq.Fee), MerchantFee: money(q.MerchantFees), UserReceives: money(q.UserPayout),
		WalletDebit: money(q.TotalMerchantDebit), Limit: money(sq.Limit),
		ExpectedDeliveryAt: isoTime(sq.ExpectedDeliveryDateISO), quote: q,
	}
	return e, nil
}

func money(c coinflow.CurrencyCents) models.Money {
	return models.Money{Cents: c.Cents, Currency: c.Currency}
}
