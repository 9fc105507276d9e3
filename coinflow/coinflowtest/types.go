package coinflowtest

import (
	"errors"
	"time"
)

// Withdraw speeds (WithdrawSpeed in the spec).
const (
	SpeedASAP     = "asap"
	SpeedSameDay  = "same_day"
	SpeedStandard = "standard"
	SpeedCard     = "card"
	SpeedIBAN     = "iban"
	SpeedPIX      = "pix"
	SpeedEFT      = "eft"
	SpeedVenmo    = "venmo"
	SpeedPayPal   = "paypal"
	SpeedWire     = "wire"
	SpeedInterac  = "interac"
)

// speeds lists every WithdrawSpeed in the spec's order.
var speeds = []string{
	SpeedASAP, SpeedSameDay, SpeedStandard, SpeedCard, SpeedIBAN, SpeedPIX,
	SpeedEFT, SpeedVenmo, SpeedPayPal, SpeedWire, SpeedInterac,
}

func validSpeed(s string) bool {
	for _, v := range speeds {
		if v == s {
			return true
		}
	}
	return false
}

// NACHALimitCents is the same-day ACH per-transaction limit: a same_day
// payout above it is sent as standard.
const NACHALimitCents = 100_000_000

// Withdraw statuses (WithdrawStatusWithReview) and return statuses.
const (
	StatusPending          = "pending"
	StatusInReview         = "in_review"
	StatusCompleted        = "completed"
	StatusFailed           = "failed"
	ReturnPending          = "pending_return"
	ReturnCompleted        = "return_completed"
	VerificationPending    = "pending"
	VerificationApproved   = "approved"
	VerificationRejected   = "rejected"
	VerificationExpired    = "expired"
	VerificationPartial    = "partial-approval"
	AvailabilityFunctional = "Functional"
	AvailabilityBlocked    = "Blocked"
	AvailabilityOverride   = "Override"
)

// Webhook event types the emulator sends, and their categories.
const (
	EventWithdrawPending = "Withdraw Pending"
	EventWithdrawSuccess = "Withdraw Success"
	EventWithdrawFailure = "Withdraw Failure"
	// EventWithdrawUnclaimed and EventWithdrawOnHold are in Coinflow's
	// docs (PayPal/Venmo payouts) but not in the spec's enum.
	EventWithdrawUnclaimed = "Withdraw Unclaimed"
	EventWithdrawOnHold    = "Withdraw On Hold"
	EventKYCCreated        = "KYC Created"
	EventKYCSuccess        = "KYC Success"
	EventKYCFailure        = "KYC Failure"
	CategoryWithdraw       = "Withdraw"
	CategoryKYC            = "KYC"
)

// Operation names, as counted by Calls and matched by APIFault.Operation.
const (
	OpListWithdraws     = "list_withdraws"      // GET /merchant/withdraws
	OpGetWithdraw       = "get_withdraw"        // GET /merchant/withdraws/{withdrawalId}
	OpBalance           = "balance"             // GET /merchant/withdraws/payout/balance
	OpQuote             = "quote"               // POST /merchant/withdraws/payout/delegated/quote
	OpPayout            = "payout"              // POST /merchant/withdraws/payout/delegated
	OpWithdrawers       = "withdrawers"         // GET /merchant/withdrawers
	OpBlockWithdrawer   = "block_withdrawer"    // PUT /merchant/block-withdrawer/{withdrawerId}
	OpListWebhooks      = "list_webhooks"       // GET /merchant/webhooks
	OpResendWebhook     = "resend_webhook"      // POST /merchant/webhooks/{webhookLogId}
	OpGetWithdrawer     = "get_withdrawer"      // GET /withdraw
	OpWithdrawQuote     = "withdraw_quote"      // GET /withdraw/quote
	OpKYC               = "kyc"                 // POST /withdraw/kyc
	OpAddBankAccount    = "add_bank_account"    // POST /withdraw/account and /withdraw/account/v2
	OpAddDebitCard      = "add_debit_card"      // POST /withdraw/debit-card
	OpAddIBAN           = "add_iban"            // POST /withdraw/iban
	OpAddPIX            = "add_pix"             // POST /withdraw/pix
	OpDeleteBankAccount = "delete_bank_account" // DELETE /withdraw/account/{token}
	OpDeleteCard        = "delete_card"         // DELETE /withdraw/card/{token}
	OpDeleteIBAN        = "delete_iban"         // DELETE /withdraw/iban/{token}
	OpDeletePIX         = "delete_pix"          // DELETE /withdraw/pix/{token}
	OpSessionKey        = "session_key"         // GET /auth/session-key
)

// Errors returned by the control methods.
var (
	ErrNotFound          = errors.New("coinflowtest: not found")
	ErrExists            = errors.New("coinflowtest: already exists")
	ErrInvalidTransition = errors.New("coinflowtest: invalid status transition")
	ErrInsufficientFunds = errors.New("coinflowtest: insufficient funds")
	ErrInvalid           = errors.New("coinflowtest: invalid argument")
	ErrClosed            = errors.New("coinflowtest: emulator closed")
)

// Withdraw is a snapshot of one payout as the emulator holds it.
type Withdraw struct {
	Transaction    string `json:"transaction"`
	TransferID     string `json:"transferId"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	UserID         string `json:"userId"`
	WithdrawerID   string `json:"withdrawerId"`
	Account        string `json:"account"`
	AmountCents    int64  `json:"amountCents"` // in Currency
	Currency       string `json:"currency"`    // the destination's: USD, EUR, GBP or BRL
	// ExchangeRate is usdToForeignExchangeRate, USD per 1 unit of
	// Currency, as a decimal ("1" for USD; "" reads as "1").
	ExchangeRate string `json:"usdToForeignExchangeRate,omitempty"`
	// DebitCents is what the payout took from the wallet, in USD cents:
	// AmountCents at ExchangeRate plus MerchantFeeCents (the quote's
	// totalMerchantDebit). A completed return credits exactly this back.
	DebitCents           int64     `json:"debitCents"`
	RequestedSpeed       string    `json:"requestedSpeed"`
	EffectiveSpeed       string    `json:"effectiveSpeed"`
	Status               string    `json:"status"`
	ReturnStatus         string    `json:"returnStatus,omitempty"`
	ReturnTransaction    string    `json:"returnTransaction,omitempty"`
	ReturnedAt           time.Time `json:"returnedAt,omitzero"`
	DetailMessage        string    `json:"detailMessage,omitempty"`
	MerchantFeeCents     int64     `json:"merchantFeeCents"` // USD cents
	UserFeeCents         int64     `json:"userFeeCents"`     // USD cents
	Provider             string    `json:"provider"`
	CreatedAt            time.Time `json:"createdAt"`
	UpdatedAt            time.Time `json:"updatedAt"`
	ExpectedDeliveryDate time.Time `json:"expectedDeliveryDate"`
	// Stuck withdraws never move on their own (Stuck).
	Stuck bool `json:"stuck,omitempty"`
	// Unclaimed withdraws wait for their recipient (MarkUnclaimed): still
	// pending, they never complete on their own.
	Unclaimed bool `json:"unclaimed,omitempty"`
	// OnHold withdraws are held (MarkOnHold): in_review until Complete or
	// Fail.
	OnHold bool `json:"onHold,omitempty"`
}

// WithdrawSpec seeds a withdraw directly (CreateWithdraw), as if it had been
// paid out through the API: for "paid at Coinflow, unknown locally".
type WithdrawSpec struct {
	UserID string `json:"userId"`
	// AmountCents is in the currency of Account: USD, unless Account is an
	// IBAN or PIX destination of the withdrawer.
	AmountCents int64 `json:"amountCents"`
	// Speed is the requested speed, default same_day; EffectiveSpeed
	// defaults to the speed the payout endpoint would give it.
	Speed          string `json:"speed,omitempty"`
	EffectiveSpeed string `json:"effectiveSpeed,omitempty"`
	// Status defaults to pending; completed and failed are allowed, and
	// pending ones follow the lifecycle.
	Status        string `json:"status,omitempty"`
	ReturnStatus  string `json:"returnStatus,omitempty"`
	DetailMessage string `json:"detailMessage,omitempty"`
	// Transaction, TransferID and IdempotencyKey are generated when empty.
	// A key makes a later payout request with the same key a replay.
	Transaction    string `json:"transaction,omitempty"`
	TransferID     string `json:"transferId,omitempty"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Account defaults to the withdrawer's first bank token (or a new one).
	Account string `json:"account,omitempty"`
	// MerchantFeeCents (USD) 0 means the configured fee of the effective
	// speed.
	MerchantFeeCents int64     `json:"merchantFeeCents,omitempty"`
	CreatedAt        time.Time `json:"createdAt,omitzero"` // default: now
	// NoWebhooks skips the Withdraw Pending/Success/Failure events.
	NoWebhooks bool `json:"noWebhooks,omitempty"`
	// NoDebit leaves the balance alone (by default the amount in USD plus
	// the fee is debited, as a payout would, and, for a failed withdraw with
	// a completed return, credited back).
	NoDebit bool `json:"noDebit,omitempty"`
}

// WithdrawerSpec registers a userId-identified withdrawer (AddWithdrawer).
type WithdrawerSpec struct {
	UserID  string `json:"userId"`
	Email   string `json:"email,omitempty"`   // default <userId>@example.com
	Country string `json:"country,omitempty"` // ISO alpha-2, default US
	// Verification is a VerificationStatus, default approved.
	Verification string `json:"verification,omitempty"`
	Blocked      bool   `json:"blocked,omitempty"`
	// BankToken and CardToken are generated when empty; IBANToken and
	// PIXToken only exist when set. A CardToken starting with
	// IneligibleCardPrefix is an Ineligible card. An IBAN is paid in GBP
	// for a GB withdrawer, EUR otherwise.
	BankToken string `json:"bankToken,omitempty"`
	CardToken string `json:"cardToken,omitempty"`
	IBANToken string `json:"ibanToken,omitempty"`
	PIXToken  string `json:"pixToken,omitempty"`
	// NoAddress leaves a US withdrawer without an address on file (as if
	// document-verified), so that saving a debit card needs body.address
	// (412). Other countries never have one.
	NoAddress bool `json:"noAddress,omitempty"`
}

// Withdrawer is a snapshot of a withdrawer.
type Withdrawer struct {
	ID       string `json:"id"` // the 24-hex _id
	UserID   string `json:"userId"`
	Wallet   string `json:"wallet"` // <merchantId>ʬ<userId>
	Email    string `json:"email"`
	Country  string `json:"country"`
	Currency string `json:"currency"`
	// OriginalCurrency is the payout currency of the verification country
	// (IWithdrawer.originalCurrency): USD, EUR, GBP, BRL or CAD.
	OriginalCurrency string `json:"originalCurrency"`
	Verification     string `json:"verification"`
	Availability     string `json:"availability"`
	Blocked          bool   `json:"blocked"`
	BankToken        string `json:"bankToken,omitempty"`
	CardToken        string `json:"cardToken,omitempty"`
	IBANToken        string `json:"ibanToken,omitempty"`
	PIXToken         string `json:"pixToken,omitempty"`
	// HasAddress: an address is on file (POST /withdraw/debit-card needs
	// one).
	HasAddress bool      `json:"hasAddress"`
	Accounts   []string  `json:"accounts"` // every live (not deleted) destination token
	CreatedAt  time.Time `json:"createdAt"`
}

// Delivery is one webhook event's delivery as the sender saw it. A
// duplicate (WebhookFaults.Duplicate) or a resend is a Delivery of its own.
type Delivery struct {
	ID          int       `json:"id"`
	EventType   string    `json:"eventType"`
	Category    string    `json:"category"`
	Transaction string    `json:"transaction,omitempty"` // data.signature of Withdraw events
	UserID      string    `json:"userId,omitempty"`
	Created     time.Time `json:"created"` // the envelope's created (emulator clock)
	Body        []byte    `json:"-"`
	Attempts    int       `json:"attempts"`
	LastStatus  int       `json:"lastStatus"` // 0: no HTTP answer (timeout, refused)
	Delivered   bool      `json:"delivered"`  // the receiver answered exactly 200
	Dropped     bool      `json:"dropped,omitempty"`
	Duplicate   bool      `json:"duplicate,omitempty"`
	Resent      bool      `json:"resent,omitempty"`
	GaveUp      bool      `json:"gaveUp,omitempty"`
	// Undeliverable marks a delivery failed for good by WebhookFaults.FailNext.
	Undeliverable bool `json:"undeliverable,omitempty"`
	NoURL         bool `json:"noUrl,omitempty"` // recorded while no WebhookURL was set
}
