package coinflowtest

import (
	"encoding/json"
	"time"
)

// event is one webhook event: the Version 2 envelope, serialised once so
// that every attempt, duplicate and resend sends the same bytes.
type event struct {
	eventType   string
	category    string
	created     time.Time
	transaction string
	userID      string
	data        json.RawMessage
	body        []byte
}

// envelopeJSON is WebhookPacket.
type envelopeJSON struct {
	EventType string          `json:"eventType"`
	Category  string          `json:"category"`
	Created   string          `json:"created"`
	Data      json.RawMessage `json:"data"`
}

// withdrawWebhookJSON is WithdrawWebhookData with every field the fixtures
// show. total is the withdraw amount (the fixtures' assumption) and
// currency its currency; fees are in USD, as the wallet pays them.
type withdrawWebhookJSON struct {
	Wallet          string        `json:"wallet"`
	Blockchain      string        `json:"blockchain"`
	Signature       string        `json:"signature"`
	UserFees        currencyCents `json:"userFees"`
	UserGasFees     currencyCents `json:"userGasFees"`
	UserCustomFees  currencyCents `json:"userCustomFees"`
	MerchantFees    currencyCents `json:"merchantFees"`
	MerchantGasFees currencyCents `json:"merchantGasFees"`
	Total           currencyCents `json:"total"`
	Currency        string        `json:"currency"`
	MerchantID      string        `json:"merchantId"`
	UserID          string        `json:"userId,omitempty"`
	IdempotencyKey  string        `json:"idempotencyKey,omitempty"`
}

// kycWebhookJSON is KycWebhookData.
type kycWebhookJSON struct {
	Wallet     string `json:"wallet"`
	Blockchain string `json:"blockchain"`
	Email      string `json:"email"`
}

func newEvent(eventType, category string, at time.Time, txn, userID string, data any) *event {
	raw := mustJSON(data)
	body := mustJSON(envelopeJSON{EventType: eventType, Category: category, Created: isoMillis(at), Data: raw})
	return &event{eventType: eventType, category: category, created: at, transaction: txn, userID: userID, data: raw, body: body}
}

// emitWithdrawLocked queues a Withdraw event for w.
func (e *Emulator) emitWithdrawLocked(w *withdraw, eventType string, at time.Time) {
	data := withdrawWebhookJSON{
		Wallet:          e.opts.SettlementWallet,
		Blockchain:      "solana",
		Signature:       w.Transaction,
		UserFees:        cc(w.UserFeeCents, "USD"),
		UserGasFees:     cc(0, "USD"),
		UserCustomFees:  cc(0, "USD"),
		MerchantFees:    cc(w.MerchantFeeCents, "USD"),
		MerchantGasFees: cc(0, "USD"),
		Total:           cc(w.AmountCents, w.Currency),
		Currency:        w.Currency,
		MerchantID:      e.opts.MerchantID,
		UserID:          w.UserID,
		IdempotencyKey:  w.IdempotencyKey,
	}
	e.hooks.enqueue(newEvent(eventType, CategoryWithdraw, at, w.Transaction, w.UserID, data))
}

// emitKYCLocked queues a KYC event for wd.
func (e *Emulator) emitKYCLocked(wd *withdrawer, eventType string) {
	data := kycWebhookJSON{Wallet: e.walletOf(wd.userID), Blockchain: "user", Email: wd.email}
	e.hooks.enqueue(newEvent(eventType, CategoryKYC, e.now, "", wd.userID, data))
}

// kycEventFor is the event a verification status change announces; ""
// for none (partial-approval has no documented event).
func kycEventFor(status string) string {
	switch status {
	case VerificationPending:
		return EventKYCCreated
	case VerificationApproved:
		return EventKYCSuccess
	case VerificationRejected, VerificationExpired:
		return EventKYCFailure
	}
	return ""
}
