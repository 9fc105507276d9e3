package coinflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/payoutd/payoutd/rail"
)

// CurrencyCents is Coinflow's money: integer minor units and an ISO 4217
// code. Cents is an int64: amounts reach 10^8 and beyond.
type CurrencyCents struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

// Amount is a request amount: currency optional.
type Amount struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency,omitempty"`
}

// Ref is a polymorphic reference that Coinflow sends either as an id string
// or as the whole object (withdraw.merchant, withdraw.withdrawer,
// withdrawer.merchant). ID is the string, or the object's _id (or id).
type Ref struct {
	ID  string
	Raw json.RawMessage
}

// UnmarshalJSON accepts a string, an object or null.
func (r *Ref) UnmarshalJSON(b []byte) error {
	r.Raw = append(r.Raw[:0], b...)
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		r.ID = ""
		return nil
	case b[0] == '"':
		return json.Unmarshal(b, &r.ID)
	case b[0] == '{':
		var obj struct {
			UnderscoreID string `json:"_id"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("decode reference object: %w", err)
		}
		r.ID = obj.UnderscoreID
		if r.ID == "" {
			r.ID = obj.ID
		}
		return nil
	}
	return fmt.Errorf("decode reference: want a string or an object, got %.20s", b)
}

// MarshalJSON writes the reference as it came, or as its id.
func (r Ref) MarshalJSON() ([]byte, error) {
	if len(r.Raw) > 0 {
		return r.Raw, nil
	}
	return json.Marshal(r.ID)
}

// UserPaidFees are the fees the withdrawer paid.
type UserPaidFees struct {
	SwapFees       CurrencyCents  `json:"swapFees"`
	GasFees        CurrencyCents  `json:"gasFees"`
	Fees           CurrencyCents  `json:"fees"`
	ProcessingFees *CurrencyCents `json:"processingFees,omitempty"`
	CustomFees     *CurrencyCents `json:"customFees,omitempty"`
}

// Total sums the fee fields (all in the same currency in practice; a
// different currency is an error).
func (f UserPaidFees) Total() (CurrencyCents, error) {
	return sumCents(&f.SwapFees, &f.GasFees, &f.Fees, f.ProcessingFees, f.CustomFees)
}

// MerchantPaidFees are the fees the merchant paid.
type MerchantPaidFees struct {
	SwapFees             CurrencyCents  `json:"swapFees"`
	GasFees              CurrencyCents  `json:"gasFees"`
	Fees                 CurrencyCents  `json:"fees"`
	MerchantFundedAmount *CurrencyCents `json:"merchantFundedAmount,omitempty"`
	SettledInline        *bool          `json:"settledInline,omitempty"`
}

// Total sums swap, gas and fees (merchantFundedAmount is not a fee).
func (f MerchantPaidFees) Total() (CurrencyCents, error) {
	return sumCents(&f.SwapFees, &f.GasFees, &f.Fees)
}

func sumCents(parts ...*CurrencyCents) (CurrencyCents, error) {
	var sum CurrencyCents
	for _, p := range parts {
		if p == nil || (p.Cents == 0 && p.Currency == "") {
			continue
		}
		if sum.Currency != "" && p.Currency != "" && p.Currency != sum.Currency {
			return CurrencyCents{}, fmt.Errorf("fees in %s and %s", sum.Currency, p.Currency)
		}
		if sum.Currency == "" {
			sum.Currency = p.Currency
		}
		sum.Cents += p.Cents
	}
	return sum, nil
}

// EditAudit records who manually failed or succeeded a withdraw.
type EditAudit struct {
	Editor      string     `json:"editor"`
	EditorType  string     `json:"editorType"`
	FailedAt    *time.Time `json:"failedAt,omitempty"`
	SucceededAt *time.Time `json:"succeededAt,omitempty"`
}

// Withdraw statuses (WithdrawStatusWithReview) and return statuses.
const (
	WithdrawPending   = "pending"
	WithdrawInReview  = "in_review"
	WithdrawCompleted = "completed"
	WithdrawFailed    = "failed"

	ReturnPending   = "pending_return"
	ReturnCompleted = "return_completed"
)

// Withdraw is one payout as Coinflow's withdraw endpoints show it
// (WithdrawWithDescriptiveStatus; IWithdraw for the single get, decoded
// with the wider status enum). Interac's claim pin is deliberately not
// decoded: payoutd has no use for it and must not hold it.
type Withdraw struct {
	Transaction              string           `json:"transaction"`
	CreatedAt                time.Time        `json:"createdAt"`
	Amount                   CurrencyCents    `json:"amount"`
	Speed                    string           `json:"speed"`
	IdempotencyKey           string           `json:"idempotencyKey,omitempty"`
	Merchant                 Ref              `json:"merchant"`
	Blockchain               string           `json:"blockchain"`
	Wallet                   string           `json:"wallet"`
	Withdrawer               Ref              `json:"withdrawer"`
	TransferID               string           `json:"transferId"`
	AccountID                string           `json:"accountId"`
	UsdToForeignExchangeRate json.Number      `json:"usdToForeignExchangeRate"`
	UserPaidFees             UserPaidFees     `json:"userPaidFees"`
	MerchantPaidFees         MerchantPaidFees `json:"merchantPaidFees"`
	ExpectedDeliveryDate     *time.Time       `json:"expectedDeliveryDate,omitempty"`
	UpdatedAt                time.Time        `json:"updatedAt"`
	Provider                 string           `json:"provider"`
	Status                   string           `json:"status"`
	ReturnStatus             string           `json:"returnStatus,omitempty"`
	ReturnTransaction        string           `json:"returnTransaction,omitempty"`
	ReturnedAt               *time.Time       `json:"returnedAt,omitempty"`
	UserID                   string           `json:"userId,omitempty"`
	DetailMessage            string           `json:"detailMessage,omitempty"`
	ErrorData                string           `json:"errorData,omitempty"`
	IsFirstParty             *bool            `json:"isFirstParty,omitempty"`
	PayoutInitiated          *bool            `json:"payoutInitiated,omitempty"`
	ManuallyFailedBy         *EditAudit       `json:"manuallyFailedBy,omitempty"`
	ManuallySucceededBy      *EditAudit       `json:"manuallySucceededBy,omitempty"`
	OrchestrationTraceID     string           `json:"orchestrationTraceId,omitempty"`
}

// QuoteRequest is DelegatedPayoutQuoteArgs.
type QuoteRequest struct {
	Speed   string `json:"speed"`
	Account string `json:"account"`
	UserID  string `json:"userId"`
	Amount  Amount `json:"amount"`
}

// SpeedQuote is WithdrawQuoteFeesAndLimit: the terms of one speed.
type SpeedQuote struct {
	Fee                     CurrencyCents `json:"fee"`
	Limit                   CurrencyCents `json:"limit"`
	FinalSettlement         CurrencyCents `json:"finalSettlement"`
	ExpectedDeliveryDate    string        `json:"expectedDeliveryDate"` // free text ("Instant")
	ExpectedDeliveryDateISO string        `json:"expectedDeliveryDateISO,omitempty"`
}

// Quote is DelegatedPayoutQuote: terms per speed plus the totals of the
// requested payout.
type Quote struct {
	Speeds             map[string]SpeedQuote `json:"-"`
	Quote              CurrencyCents         `json:"quote"`
	TotalMerchantDebit CurrencyCents         `json:"totalMerchantDebit"`
	UserPayout         CurrencyCents         `json:"userPayout"`
	MerchantFees       CurrencyCents         `json:"merchantFees"`
}

// UnmarshalJSON reads the totals and every per-speed entry.
func (q *Quote) UnmarshalJSON(b []byte) error {
	type totals Quote
	if err := json.Unmarshal(b, (*totals)(q)); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	q.Speeds = map[string]SpeedQuote{}
	for _, s := range rail.Speeds() {
		raw, ok := all[s]
		if !ok {
			continue
		}
		var sq SpeedQuote
		if err := json.Unmarshal(raw, &sq); err != nil {
			return fmt.Errorf("decode quote for %s: %w", s, err)
		}
		q.Speeds[s] = sq
	}
	return nil
}

// PayoutRequest is PayoutDelegatedArgs.
type PayoutRequest struct {
	IdempotencyKey      string `json:"idempotencyKey"`
	Speed               string `json:"speed"`
	Account             string `json:"account"`
	UserID              string `json:"userId"`
	Amount              Amount `json:"amount"`
	WaitForConfirmation *bool  `json:"waitForConfirmation,omitempty"`
}

// PayoutResponse is DelegatedPayoutResponse.
type PayoutResponse struct {
	Signature      string `json:"signature"`
	EffectiveSpeed string `json:"effectiveSpeed"`
}

// Availability statuses; Blocked is the "blocked" flag.
const (
	AvailabilityFunctional = "Functional"
	AvailabilityBlocked    = "Blocked"
	AvailabilityOverride   = "Override"
)

// Verification statuses (VerificationStatus) of withdrawer.verification.
const (
	VerificationPending         = "pending"
	VerificationPartialApproval = "partial-approval"
	VerificationApproved        = "approved"
	VerificationRejected        = "rejected"
	VerificationExpired         = "expired"
)

// Withdrawer is IWithdrawer. The email is decoded because Coinflow sends it;
// callers keep only a masked form.
type Withdrawer struct {
	ID           string `json:"_id"`
	Wallet       string `json:"wallet"`
	Blockchain   string `json:"blockchain"`
	Email        string `json:"email"`
	Availability struct {
		Status    string     `json:"status"`
		Reason    string     `json:"reason"`
		Editor    string     `json:"editor"`
		UpdatedAt *time.Time `json:"updatedAt,omitempty"`
	} `json:"availability"`
	// Currency is the withdrawer's payout currency; OriginalCurrency, when
	// set, the WithdrawCurrency (USD, EUR, GBP, BRL, CAD) of the
	// verification country.
	Currency         string `json:"currency"`
	OriginalCurrency string `json:"originalCurrency,omitempty"`
	Merchant         Ref    `json:"merchant"`
	Verification     struct {
		Reference string `json:"reference"`
		Status    string `json:"status"`
		Vendor    string `json:"vendor"`
	} `json:"verification"`
	RiskScoreOverride bool       `json:"riskScoreOverride"`
	Country           string     `json:"country"`
	CreatedAt         *time.Time `json:"createdAt,omitempty"`
}

// Blocked reports availability.status == Blocked.
func (w *Withdrawer) Blocked() bool { return w.Availability.Status == AvailabilityBlocked }

// UserID is the merchant's id for a userId withdrawer (the part of the
// wallet after "ʬ"), else the wallet.
func (w *Withdrawer) UserID() string {
	if _, user, ok := strings.Cut(w.Wallet, "ʬ"); ok && user != "" {
		return user
	}
	return w.Wallet
}

// CardType is a saved card's network (CardType).
type CardType string

// Card networks.
const (
	CardVisa       CardType = "VISA"
	CardMastercard CardType = "MSTR"
	CardAmex       CardType = "AMEX"
	CardDiscover   CardType = "DISC"
)

// Disbursement statuses (DisbursementStatus): whether a card can receive a
// push to card.
const (
	DisbursementImmediate   = "Immediate"
	DisbursementBusinessDay = "Business Day"
	DisbursementIneligible  = "Ineligible"
	DisbursementUnknown     = "Unknown"
)

// Destination is one saved destination of any kind (a bank account, card,
// IBAN, PIX key or EFT account); Token is what quote and payout take as
// account. Only what payoutd may keep is decoded: never a bank or EFT
// account number, and of a PIX key only its last 4 characters.
type Destination struct {
	// Last4 is Coinflow's last4; for an EFT account, which has none, the
	// last 4 characters of its mask. Empty for a PIX key: see PixKeyLast4.
	Last4     string `json:"last4"`
	Token     string `json:"token"`
	Alias     string `json:"alias,omitempty"`
	IsDeleted bool   `json:"isDeleted,omitempty"`
	// Cards only.
	Type               CardType `json:"type,omitempty"`
	DisbursementStatus string   `json:"disbursementStatus,omitempty"`
	Currency           string   `json:"currency,omitempty"`

	keyLast4    string // a PIX key's last 4 characters
	hasSortCode bool   // an IBAN entry that is a UK account number and sort code
}

// UnmarshalJSON decodes the members of the five destination schemas that
// payoutd may keep. A PIX key is read, cut to its last 4 characters, and
// not kept.
func (d *Destination) UnmarshalJSON(b []byte) error {
	var w struct {
		Last4              string   `json:"last4"`
		Token              string   `json:"token"`
		Alias              string   `json:"alias"`
		IsDeleted          bool     `json:"isDeleted"`
		Type               CardType `json:"type"`
		DisbursementStatus string   `json:"disbursementStatus"`
		Currency           string   `json:"currency"`
		SortCode           string   `json:"sortCode"` // ibans
		Key                string   `json:"key"`      // pixes: the whole PIX key
		Mask               string   `json:"mask"`     // efts
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = Destination{
		Last4: w.Last4, Token: w.Token, Alias: w.Alias, IsDeleted: w.IsDeleted,
		Type: w.Type, DisbursementStatus: w.DisbursementStatus, Currency: w.Currency,
		keyLast4: lastRunes(w.Key, 4), hasSortCode: strings.TrimSpace(w.SortCode) != "",
	}
	if d.Last4 == "" {
		d.Last4 = lastRunes(w.Mask, 4)
	}
	return nil
}

// PixKeyLast4 is the last 4 characters of a PIX key's key (the schema has
// no last4 for PIX keys); empty for other destinations.
func (d *Destination) PixKeyLast4() string { return d.keyLast4 }

// lastRunes is the last n characters of s.
func lastRunes(s string, n int) string {
	r := []rune(s)
	return string(r[max(len(r)-n, 0):])
}

// WithdrawerWithAccounts is GET /withdraw's withdrawer (also the answer of
// adding a bank account). The lists keep Coinflow's order.
type WithdrawerWithAccounts struct {
	Withdrawer
	BankAccounts []Destination `json:"bankAccounts"`
	Cards        []Destination `json:"cards"`
	Ibans        []Destination `json:"ibans"`
	Pixes        []Destination `json:"pixes"`
	Efts         []Destination `json:"efts"`
}
