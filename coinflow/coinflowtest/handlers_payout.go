package coinflowtest

import (
	"fmt"
	"net/http"
)

// quoteRequest is the body of a delegated quote, and the part of a
// delegated payout's body that a quote shares.
type quoteRequest struct {
	Speed   string      `json:"speed"`
	Account string      `json:"account"`
	UserID  string      `json:"userId"`
	Amount  *amountJSON `json:"amount"`

	cents    int64  // Amount's, set by check
	currency string // Amount's, "" when not given; set by check
}

func (q *quoteRequest) check() string {
	switch {
	case q.Speed == "":
		return "speed is required"
	case !validSpeed(q.Speed):
		return fmt.Sprintf("speed must be one of %v", speeds)
	case q.Account == "":
		return "account is required"
	case q.UserID == "":
		return "userId is required"
	}
	var msg string
	q.cents, q.currency, msg = q.Amount.validate()
	return msg
}

type payoutRequest struct {
	quoteRequest
	IdempotencyKey      string `json:"idempotencyKey"`
	WaitForConfirmation *bool  `json:"waitForConfirmation"`
}

func (p *payoutRequest) check() string {
	if p.IdempotencyKey == "" {
		return "idempotencyKey is required"
	}
	return p.quoteRequest.check()
}

type payoutResponseJSON struct {
	Signature      string `json:"signature"`
	EffectiveSpeed string `json:"effectiveSpeed"`
}

type verificationRequiredJSON struct {
	VerificationLink string `json:"verificationLink"`
	Message          string `json:"message"`
}

// handlePayout is POST /merchant/withdraws/payout/delegated. The whole
// decision runs under the state lock, so concurrent requests with one
// idempotencyKey create one payout and all get its answer.
func (e *Emulator) handlePayout(w http.ResponseWriter, r *http.Request) {
	var req payoutRequest
	if !decodeBody(w, r, &req) {
		return
	}
	cents := req.cents

	e.mu.Lock()
	defer e.mu.Unlock()
	// [ASSUMED] a replay answers what the first request got, whatever its
	// body; only successful payouts are remembered, so a request refused
	// with 402 can be retried with the same key once funds arrive.
	if prev := e.byKey[req.IdempotencyKey]; prev != nil {
		writeRaw(w, http.StatusOK, prev.response)
		return
	}
	wd, d, ok := e.payableLocked(w, req.UserID, req.Account, req.Speed, req.currency)
	if !ok {
		return
	}
	effective := e.effectiveSpeedLocked(req.Speed, cents, d.currency)
	p, msg := e.priceLocked(cents, d.currency, e.feeFor(effective))
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	if e.balance < p.totalCents {
		writeMsg(w, http.StatusPaymentRequired, "Insufficient funds")
		return
	}
	e.balance -= p.totalCents
	wr := &withdraw{Withdraw: Withdraw{
		Transaction:          e.ids.signature.signature(),
		TransferID:           e.ids.transfer.uuid(),
		IdempotencyKey:       req.IdempotencyKey,
		UserID:               req.UserID,
		WithdrawerID:         wd.id,
		Account:              req.Account,
		AmountCents:          cents,
		Currency:             p.currency,
		ExchangeRate:         p.rate.text,
		DebitCents:           p.totalCents,
		RequestedSpeed:       req.Speed,
		EffectiveSpeed:       effective,
		Status:               StatusPending,
		MerchantFeeCents:     p.feeCents,
		Provider:             providerFor(effective),
		CreatedAt:            e.now,
		UpdatedAt:            e.now,
		ExpectedDeliveryDate: e.now.Add(e.durationFor(effective)),
	}}
	wr.response = mustJSON(payoutResponseJSON{Signature: wr.Transaction, EffectiveSpeed: effective})
	e.insertLocked(wr)
	e.payoutsCreated++
	e.emitWithdrawLocked(wr, EventWithdrawPending, e.now)
	writeRaw(w, http.StatusOK, wr.response)
}

// payableLocked checks that userID may be paid to account at speed in
// currency ("" = the account's), answering the refusal itself: 404 unknown
// withdrawer, Options.BlockedStatus (403) blocked, 451 not verified, 400
// account not theirs (or deleted), not taking speed or paid in another
// currency.
func (e *Emulator) payableLocked(w http.ResponseWriter, userID, account, speed, currency string) (*withdrawer, *savedDest, bool) {
	wd := e.byUser[userID]
	var d *savedDest
	var msg string
	if wd != nil {
		d, msg = wd.payableDest(account, speed, currency)
	}
	switch {
	case wd == nil:
		writeMsg(w, http.StatusNotFound, "Withdrawer not found")
	case wd.blocked() && e.opts.BlockedStatus != http.StatusUnavailableForLegalReasons:
		// [ASSUMED] blocked is an availability decision, not a verification
		// one: no verificationLink to offer (Options.BlockedStatus).
		writeMsg(w, e.opts.BlockedStatus, "User is blocked")
	case wd.blocked() || wd.verification != VerificationApproved:
		writeJSON(w, http.StatusUnavailableForLegalReasons, verificationRequiredJSON{
			VerificationLink: e.verificationLink(wd, ""),
			Message:          "User must complete additional verification",
		})
	case msg != "":
		writeMsg(w, http.StatusBadRequest, msg)
	default:
		return wd, d, true
	}
	return nil, nil, false
}

func providerFor(speed string) string {
	switch speed {
	case SpeedASAP:
		return "rtp"
	case SpeedSameDay, SpeedStandard:
		return "ach"
	case SpeedCard:
		return "push-to-card"
	case SpeedIBAN:
		return "iban"
	}
	return speed
}

type balanceJSON struct {
	Balance struct {
		Cents int64 `json:"cents"`
	} `json:"balance"`
}

// handleBalance is GET /merchant/withdraws/payout/balance.
func (e *Emulator) handleBalance(w http.ResponseWriter, r *http.Request) {
	var b balanceJSON
	b.Balance.Cents = e.Balance()
	writeJSON(w, http.StatusOK, b)
}

// handleQuote is POST /merchant/withdraws/payout/delegated/quote. Its
// totals are for the speed the payout would really take (after the NACHA
// rule and programmed downgrades) and priced by priceLocked, so they match
// what the payout debits.
func (e *Emulator) handleQuote(w http.ResponseWriter, r *http.Request) {
	var req quoteRequest
	if !decodeBody(w, r, &req) {
		return
	}
	cents := req.cents
	e.mu.Lock()
	defer e.mu.Unlock()
	wd := e.byUser[req.UserID]
	if wd == nil {
		writeMsg(w, http.StatusNotFound, "Withdrawer not found")
		return
	}
	d, msg := wd.payableDest(req.Account, req.Speed, req.currency)
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	p, msg := e.priceLocked(cents, d.currency, e.feeFor(e.effectiveSpeedLocked(req.Speed, cents, d.currency)))
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	writeJSON(w, http.StatusOK, delegatedQuoteJSON{
		speedQuotesJSON:    e.speedQuotesLocked(cents, p.currency, p.rate),
		TotalMerchantDebit: cc(p.totalCents, "USD"),
		UserPayout:         cc(p.cents, p.currency),
		MerchantFees:       cc(p.feeCents, "USD"),
	})
}
