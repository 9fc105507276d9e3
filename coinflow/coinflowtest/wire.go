package coinflowtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"iter"
	"net/http"
	"time"
)

// The wire structs below are this package's own reading of
// openapi-payouts.json and the fixtures; field order follows the fixtures.

type currencyCents struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

func cc(cents int64, currency string) currencyCents {
	return currencyCents{Cents: cents, Currency: currency}
}

type msgJSON struct {
	Msg string `json:"msg"`
}

type feesJSON struct {
	SwapFees currencyCents `json:"swapFees"`
	GasFees  currencyCents `json:"gasFees"`
	Fees     currencyCents `json:"fees"`
}

// withdrawJSON is WithdrawWithDescriptiveStatus (list) and IWithdraw
// (single get).
type withdrawJSON struct {
	Transaction              string        `json:"transaction"`
	CreatedAt                string        `json:"createdAt"`
	Amount                   currencyCents `json:"amount"`
	Speed                    string        `json:"speed"`
	IdempotencyKey           string        `json:"idempotencyKey,omitempty"`
	Merchant                 string        `json:"merchant"`
	Blockchain               string        `json:"blockchain"`
	Wallet                   string        `json:"wallet"`
	Withdrawer               string        `json:"withdrawer"`
	TransferID               string        `json:"transferId"`
	AccountID                string        `json:"accountId"`
	UsdToForeignExchangeRate json.Number   `json:"usdToForeignExchangeRate"`
	UserPaidFees             feesJSON      `json:"userPaidFees"`
	MerchantPaidFees         feesJSON      `json:"merchantPaidFees"`
	ExpectedDeliveryDate     string        `json:"expectedDeliveryDate"`
	UpdatedAt                string        `json:"updatedAt"`
	Provider                 string        `json:"provider"`
	UserID                   string        `json:"userId,omitempty"`
	IsFirstParty             bool          `json:"isFirstParty"`
	PayoutInitiated          bool          `json:"payoutInitiated"`
	Status                   string        `json:"status"`
	ReturnStatus             string        `json:"returnStatus,omitempty"`
	ReturnTransaction        string        `json:"returnTransaction,omitempty"`
	ReturnedAt               string        `json:"returnedAt,omitempty"`
	DetailMessage            string        `json:"detailMessage,omitempty"`
}

// withdrawJSONOf renders w; withdrawerID is its withdrawer's _id. The
// amount is in the payout currency, the fees in USD (the wallet's), and
// usdToForeignExchangeRate is the exact decimal the payout was priced at.
func (e *Emulator) withdrawJSONOf(w *Withdraw, withdrawerID string) withdrawJSON {
	cur, usd := w.Currency, "USD"
	out := withdrawJSON{
		Transaction:              w.Transaction,
		CreatedAt:                isoMillis(w.CreatedAt),
		Amount:                   cc(w.AmountCents, cur),
		Speed:                    w.EffectiveSpeed,
		IdempotencyKey:           w.IdempotencyKey,
		Merchant:                 e.opts.MerchantObjectID,
		Blockchain:               "solana",
		Wallet:                   e.opts.SettlementWallet,
		Withdrawer:               withdrawerID,
		TransferID:               w.TransferID,
		AccountID:                w.Account,
		UsdToForeignExchangeRate: json.Number(cmp.Or(w.ExchangeRate, "1")),
		UserPaidFees:             feesJSON{SwapFees: cc(0, usd), GasFees: cc(0, usd), Fees: cc(w.UserFeeCents, usd)},
		MerchantPaidFees:         feesJSON{SwapFees: cc(0, usd), GasFees: cc(0, usd), Fees: cc(w.MerchantFeeCents, usd)},
		ExpectedDeliveryDate:     isoMillis(w.ExpectedDeliveryDate),
		UpdatedAt:                isoMillis(w.UpdatedAt),
		Provider:                 w.Provider,
		UserID:                   w.UserID,
		PayoutInitiated:          w.Status != StatusInReview,
		Status:                   w.Status,
		ReturnStatus:             w.ReturnStatus,
		ReturnTransaction:        w.ReturnTransaction,
		DetailMessage:            w.DetailMessage,
	}
	if !w.ReturnedAt.IsZero() {
		out.ReturnedAt = isoMillis(w.ReturnedAt)
	}
	return out
}

type walletJSON struct {
	Wallet     string `json:"wallet"`
	Blockchain string `json:"blockchain"`
}

type availabilityJSON struct {
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	Editor    string `json:"editor"`
	UpdatedAt string `json:"updatedAt"`
}

type verificationJSON struct {
	Reference string `json:"reference"`
	Status    string `json:"status"`
	Vendor    string `json:"vendor"`
}

// withdrawerJSON is IWithdrawer.
type withdrawerJSON struct {
	ID                string           `json:"_id"`
	Wallet            string           `json:"wallet"`
	Blockchain        string           `json:"blockchain"`
	Wallets           []walletJSON     `json:"wallets"`
	Email             string           `json:"email"`
	Availability      availabilityJSON `json:"availability"`
	Currency          string           `json:"currency"`
	OriginalCurrency  string           `json:"originalCurrency,omitempty"`
	Merchant          string           `json:"merchant"`
	Verification      verificationJSON `json:"verification"`
	RiskScoreOverride bool             `json:"riskScoreOverride"`
	Country           string           `json:"country"`
	CreatedAt         string           `json:"createdAt"`
}

type bankAccountJSON struct {
	Last4       string `json:"last4"`
	AccountHash string `json:"accountHash"`
	Alias       string `json:"alias"`
	Token       string `json:"token"`
	Reference   string `json:"reference"`
	IsDeleted   bool   `json:"isDeleted"`
	IsTokenized bool   `json:"isTokenized"`
}

type cardJSON struct {
	Last4              string `json:"last4"`
	Token              string `json:"token"`
	Type               string `json:"type"`
	DisbursementStatus string `json:"disbursementStatus"`
	Currency           string `json:"currency"`
	CreatedAt          string `json:"createdAt"`
	ExpMonth           string `json:"expMonth"`
	ExpYear            string `json:"expYear"`
	IsDeleted          bool   `json:"isDeleted"`
}

type ibanJSON struct {
	Last4       string `json:"last4"`
	AccountHash string `json:"accountHash"`
	Alias       string `json:"alias"`
	Token       string `json:"token"`
	Reference   string `json:"reference"`
	SortCode    string `json:"sortCode"`
	BIC         string `json:"bic,omitempty"`
	// IsDeleted is not in the spec's IBAN row. [ASSUMED] Coinflow marks a
	// deleted IBAN as it marks bank accounts and cards; the emulator shows
	// the member only when true.
	IsDeleted bool `json:"isDeleted,omitempty"`
}

type pixJSON struct {
	Key         string `json:"key"`
	AccountHash string `json:"accountHash"`
	Token       string `json:"token"`
	// IsDeleted: as ibanJSON's.
	IsDeleted bool `json:"isDeleted,omitempty"`
}

// withdrawerWithAccountsJSON is IWithdrawerWithAccounts.
type withdrawerWithAccountsJSON struct {
	withdrawerJSON
	BankAccounts        []bankAccountJSON `json:"bankAccounts"`
	Cards               []cardJSON        `json:"cards"`
	Ibans               []ibanJSON        `json:"ibans"`
	Pixes               []pixJSON         `json:"pixes"`
	Efts                []struct{}        `json:"efts"`
	P2cAvailable        bool              `json:"p2cAvailable"`
	ApplePayAvailable   bool              `json:"applePayAvailable"`
	BankCurrencyOptions []string          `json:"bankCurrencyOptions"`
	FreeWithdrawSpeeds  []string          `json:"freeWithdrawSpeeds"`
}

// backwardUserJSON is IBackwardUser (the KYC 200 body).
type backwardUserJSON struct {
	withdrawerJSON
	User            bool   `json:"user"`
	WatchlistExempt string `json:"watchlistExempt"`
}

func (e *Emulator) withdrawerJSONOf(w *withdrawer) withdrawerJSON {
	wallet := e.walletOf(w.userID)
	return withdrawerJSON{
		ID:         w.id,
		Wallet:     wallet,
		Blockchain: "user",
		Wallets:    []walletJSON{{Wallet: wallet, Blockchain: "user"}},
		Email:      w.email,
		Availability: availabilityJSON{
			Status: w.availability, Reason: w.availabilityReason,
			Editor: w.availabilityEditor, UpdatedAt: isoMillis(w.availabilityAt),
		},
		Currency:         w.currency,
		OriginalCurrency: w.originalCurrency,
		Merchant:         e.opts.MerchantObjectID,
		Verification:     verificationJSON{Reference: w.reference, Status: w.verification, Vendor: w.vendor},
		Country:          w.country,
		CreatedAt:        isoMillis(w.createdAt),
	}
}

func (e *Emulator) withdrawerWithAccountsOf(w *withdrawer) withdrawerWithAccountsJSON {
	out := withdrawerWithAccountsJSON{
		withdrawerJSON:      e.withdrawerJSONOf(w),
		Efts:                []struct{}{},
		BankCurrencyOptions: []string{w.currency},
		FreeWithdrawSpeeds:  []string{},
	}
	out.BankAccounts, out.Cards, out.Ibans, out.Pixes, out.P2cAvailable = w.accountsOf()
	return out
}

// isoMillis formats t as the API does: UTC with milliseconds.
func isoMillis(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// mustJSON marshals values of this package's own wire types, which cannot
// fail; a failure is a programming error.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("coinflowtest: marshal: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// streamJSONArray writes the items as a JSON array with status, encoding
// one element at a time into a small buffer flushed every 32 KiB: no
// slice of all the elements, nor one of all their encodings, is built.
func streamJSONArray[T any](w http.ResponseWriter, status int, items iter.Seq[T]) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('[')
	sep := false
	for it := range items {
		if sep {
			buf.WriteByte(',')
		}
		sep = true
		if err := enc.Encode(it); err != nil {
			panic("coinflowtest: marshal: " + err.Error())
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		if buf.Len() >= 32<<10 {
			w.Write(buf.Bytes())
			buf.Reset()
		}
	}
	buf.WriteByte(']')
	w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeRaw(w, status, mustJSON(v))
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// writeMsg writes Coinflow's error body {"msg": ...}.
func writeMsg(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, msgJSON{Msg: msg})
}
