package inbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/payoutd/payoutd/models"
)

// Coinflow event types payoutd tracks. "Withdraw Unclaimed" and "Withdraw On
// Hold" are in Coinflow's docs but not its spec's enum.
const (
	EventWithdrawPending   = "Withdraw Pending"
	EventWithdrawSuccess   = "Withdraw Success"
	EventWithdrawFailure   = "Withdraw Failure"
	EventWithdrawUnclaimed = "Withdraw Unclaimed"
	EventWithdrawOnHold    = "Withdraw On Hold"
	EventKYCCreated        = "KYC Created"
	EventKYCSuccess        = "KYC Success"
	EventKYCFailure        = "KYC Failure"
	// IBAN rail events, which name the withdrawal by withdrawId.
	EventIBANFailure      = "Iban Failure"
	EventIBANRFICreated   = "Iban RFI Created"
	EventIBANRFISubmitted = "Iban RFI Submitted"
)

// railEvents maps a rail event to the evidence it carries about the payout
// its withdrawId names. An RFI holds the payout (in_review) until Coinflow
// says it completed or failed; a submitted RFI is still held, with the
// newer detail.
var railEvents = map[string]struct {
	status models.PayoutStatus
	detail string
}{
	EventIBANFailure:      {models.StatusFailed, models.DetailIBANFailure},
	EventIBANRFICreated:   {models.StatusInReview, models.DetailRFIRequested},
	EventIBANRFISubmitted: {models.StatusInReview, models.DetailRFISubmitted},
}

// withdrawEvents maps a tracked withdraw event to the evidence it carries.
var withdrawEvents = map[string]struct {
	status models.PayoutStatus
	detail string
}{
	EventWithdrawPending:   {models.StatusPending, ""},
	EventWithdrawSuccess:   {models.StatusCompleted, ""},
	EventWithdrawFailure:   {models.StatusFailed, ""},
	EventWithdrawUnclaimed: {models.StatusPending, models.DetailUnclaimed},
	EventWithdrawOnHold:    {models.StatusInReview, models.DetailOnHold},
}

var kycEvents = map[string]models.VerificationStatus{
	EventKYCCreated: models.VerificationPending,
	EventKYCSuccess: models.VerificationApproved,
	EventKYCFailure: models.VerificationRejected,
}

// Tracked reports whether payoutd applies events of this type.
func Tracked(eventType string) bool {
	_, w := withdrawEvents[eventType]
	_, k := kycEvents[eventType]
	_, r := railEvents[eventType]
	return w || k || r
}

// EventTypeLabel bounds the metric label: tracked types by name, anything
// else "other", and "none" for a body whose type could not be read.
func EventTypeLabel(eventType string) string {
	switch {
	case eventType == "":
		return "none"
	case Tracked(eventType):
		return eventType
	}
	return "other"
}

// userIDSeparator joins merchant id and user id in a userId withdrawer's
// wallet ("acme-payoutsʬu-1001").
const userIDSeparator = "ʬ"

func parseCreated(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("created %q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// Decoding outcomes other than a tracked event.
var (
	// ErrUntracked: an authentic, well-formed event of a type payoutd does
	// not track. It is kept and counted.
	ErrUntracked = errors.New("untracked event type")
	// ErrUnprocessable: an authentic body no retry could make sense of.
	ErrUnprocessable = errors.New("unprocessable webhook")
)

// WithdrawEvent is a decoded Withdraw* webhook.
type WithdrawEvent struct {
	Type           string
	Status         models.PayoutStatus
	Detail         string
	Created        time.Time
	Signature      string
	UserID         string
	IdempotencyKey string
	Total          models.Money
	UserFees       models.Money
	MerchantFees   models.Money
}

// RailEvent is a decoded rail-specific webhook (Iban Failure, Iban RFI
// Created/Submitted). It names the withdrawal by WithdrawID, Coinflow's id
// for it: its transaction signature or its transfer id. The RFI's
// counterpartyName (a person's name) is never read: it stays in the raw body.
type RailEvent struct {
	Type       string
	Status     models.PayoutStatus
	Detail     string
	Created    time.Time
	WithdrawID string
	RFIID      string
	Amount     models.Money // Currency "" when not said
}

// KYCEvent is a decoded KYC* webhook.
type KYCEvent struct {
	Type        string
	Status      models.VerificationStatus
	Created     time.Time
	UserID      string
	Wallet      string
	Blockchain  string
	EmailMasked string
}

type envelope struct {
	EventType string          `json:"eventType"`
	Category  string          `json:"category"`
	Created   string          `json:"created"`
	Data      json.RawMessage `json:"data"`
}

// cents is CurrencyCents as sent; Cents stays raw so that 1.5, 1e3 or a
// string ("100") are refused rather than rounded or coerced.
type cents struct {
	Cents    json.RawMessage `json:"cents"`
	Currency string          `json:"currency"`
}

type withdrawData struct {
	Wallet           string `json:"wallet"`
	Blockchain       string `json:"blockchain"`
	Signature        string `json:"signature"`
	UserFees         *cents `json:"userFees"`
	UserGasFees      *cents `json:"userGasFees"`
	UserCustomFees   *cents `json:"userCustomFees"`
	UserSwapFees     *cents `json:"userSwapFees"`
	MerchantFees     *cents `json:"merchantFees"`
	MerchantGasFees  *cents `json:"merchantGasFees"`
	MerchantSwapFees *cents `json:"merchantSwapFees"`
	Total            *cents `json:"total"`
	Currency         string `json:"currency"`
	MerchantID       string `json:"merchantId"`
	UserID           string `json:"userId"`
	IdempotencyKey   string `json:"idempotencyKey"`
}

// railData is what payoutd reads of IbanRfiWebhookData, and of Iban
// Failure's data, whose schema Coinflow does not give: withdrawId (required
// here), and rfiId and amount when present.
type railData struct {
	WithdrawID string `json:"withdrawId"`
	RFIID      string `json:"rfiId"`
	Amount     *cents `json:"amount"`
}

type kycData struct {
	Wallet     string `json:"wallet"`
	Blockchain string `json:"blockchain"`
	Email      string `json:"email"`
}

func unprocessable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnprocessable}, args...)...)
}

// Decode reads a stored body into a *WithdrawEvent or *KYCEvent. It returns
// ErrUntracked for a readable event of another type and ErrUnprocessable
// (wrapped with the reason) for anything a retry could not fix. Reasons name
// fields, never their values: they end up in findings and logs.
//
// It runs on the request path (to name the event) and in the applier, so
// the common case is one pass of encoding/json over the body into a shape
// that holds both kinds of data; a body that does not fit it is decoded
// again step by step, for the precise reason.
func Decode(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, unprocessable("body is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, unprocessable("body is not a JSON object")
	}
	var w struct {
		EventType string   `json:"eventType"`
		Category  string   `json:"category"`
		Created   string   `json:"created"`
		Data      *anyData `json:"data"`
	}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return decodeSteps(trimmed)
	}
	env := envelope{EventType: w.EventType, Category: w.Category, Created: w.Created}
	created, st, err := checkEnvelope(trimmed, env, w.Data != nil)
	if err != nil {
		return nil, err
	}
	if st != "" {
		return decodeKYC(env.EventType, created, st, w.Data.kyc())
	}
	if _, ok := railEvents[env.EventType]; ok {
		return decodeRail(env.EventType, created, w.Data.railData)
	}
	return decodeWithdraw(env.EventType, created, w.Data.withdrawData)
}

// anyData holds the data of either kind of event.
type anyData struct {
	withdrawData
	railData
	Email string `json:"email"`
}

func (d *anyData) kyc() kycData {
	return kycData{Wallet: d.Wallet, Blockchain: d.Blockchain, Email: d.Email}
}

// decodeSteps decodes a body that did not fit anyData: the envelope first,
// then the data as its type says, so the reason names what is wrong.
func decodeSteps(body []byte) (any, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, unprocessable("body is not valid JSON for a webhook envelope")
	}
	isObject := len(env.Data) > 0 && bytes.TrimSpace(env.Data)[0] == '{'
	created, st, err := checkEnvelope(body, env, isObject)
	if err != nil {
		return nil, err
	}
	if st != "" {
		var d kycData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, unprocessable("data does not match KycWebhookData")
		}
		return decodeKYC(env.EventType, created, st, d)
	}
	if _, ok := railEvents[env.EventType]; ok {
		var d railData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, unprocessable("data does not match the rail event's data")
		}
		return decodeRail(env.EventType, created, d)
	}
	var d withdrawData
	if err := json.Unmarshal(env.Data, &d); err != nil {
		return nil, unprocessable("data does not match WithdrawWebhookData")
	}
	return decodeWithdraw(env.EventType, created, d)
}

// checkEnvelope applies the checks every tracked event passes, in order,
// and returns its created time and, for a KYC event, the verification
// status it carries.
func checkEnvelope(body []byte, env envelope, dataIsObject bool) (time.Time, models.VerificationStatus, error) {
	if env.EventType == "" {
		return time.Time{}, "", unprocessable("eventType is missing")
	}
	if !Tracked(env.EventType) {
		return time.Time{}, "", ErrUntracked
	}
	// encoding/json takes the last of duplicate keys and matches keys
	// regardless of case: "eventType":"Withdraw Pending" followed by
	// "EVENTTYPE":"Withdraw Success" would read as a success. An authentic
	// body that says two things is not applied.
	if err := checkKeys(body); err != nil {
		return time.Time{}, "", err
	}
	if want := categoryOf(env.EventType); want != "" && env.Category != want {
		return time.Time{}, "", unprocessable("category is not %s, the category of %s", want, env.EventType)
	}
	created, err := parseCreated(env.Created)
	if err != nil {
		return time.Time{}, "", unprocessable("created is missing or not an RFC 3339 time")
	}
	if !dataIsObject {
		return time.Time{}, "", unprocessable("data is missing or not an object")
	}
	return created, kycEvents[env.EventType], nil
}

// decodeKYC and decodeWithdraw return a plain nil with an error, never a
// typed nil pointer in a non-nil interface.
func decodeKYC(eventType string, created time.Time, st models.VerificationStatus, d kycData) (any, error) {
	if d.Wallet == "" {
		return nil, unprocessable("data.wallet is missing")
	}
	ev := &KYCEvent{Type: eventType, Status: st, Created: created, Wallet: d.Wallet, Blockchain: d.Blockchain, UserID: userIDFromWallet(d.Wallet)}
	if d.Email != "" {
		ev.EmailMasked = models.MaskEmail(d.Email)
	}
	return ev, nil
}

func decodeRail(eventType string, created time.Time, d railData) (any, error) {
	if d.WithdrawID == "" {
		// Coinflow's schema makes withdrawId optional: an RFI without one is
		// about no payout (a pay-in, say), an event payoutd does not track.
		return nil, ErrUntracked
	}
	var amount models.Money
	if d.Amount != nil {
		var err error
		if amount, err = d.Amount.money("amount"); err != nil {
			return nil, err
		}
	}
	r := railEvents[eventType]
	return &RailEvent{
		Type: eventType, Status: r.status, Detail: r.detail, Created: created,
		WithdrawID: d.WithdrawID, RFIID: d.RFIID, Amount: amount,
	}, nil
}

func userIDFromWallet(wallet string) string {
	if _, user, ok := strings.Cut(wallet, userIDSeparator); ok && user != "" {
		return user
	}
	return wallet
}

func decodeWithdraw(eventType string, created time.Time, d withdrawData) (any, error) {
	if d.Signature == "" {
		return nil, unprocessable("data.signature is missing")
	}
	if d.Total == nil {
		return nil, unprocessable("data.total is missing")
	}
	total, err := d.Total.money("total")
	if err != nil {
		return nil, err
	}
	if d.Currency != "" && d.Currency != total.Currency {
		if !models.ValidCurrency(d.Currency) {
			return nil, unprocessable("data.currency is not a known currency")
		}
		return nil, unprocessable("data.currency differs from data.total.currency")
	}
	userFees, err := sumFees(total.Currency, []namedCents{
		{"userFees", d.UserFees}, {"userGasFees", d.UserGasFees}, {"userCustomFees", d.UserCustomFees}, {"userSwapFees", d.UserSwapFees},
	})
	if err != nil {
		return nil, err
	}
	merchantFees, err := sumFees(total.Currency, []namedCents{
		{"merchantFees", d.MerchantFees}, {"merchantGasFees", d.MerchantGasFees}, {"merchantSwapFees", d.MerchantSwapFees},
	})
	if err != nil {
		return nil, err
	}
	userID := d.UserID
	if userID == "" {
		userID = userIDFromWallet(d.Wallet)
	}
	if userID == "" {
		return nil, unprocessable("data.userId and data.wallet are both missing")
	}
	w := withdrawEvents[eventType]
	return &WithdrawEvent{
		Type: eventType, Status: w.status, Detail: w.detail, Created: created,
		Signature: d.Signature, UserID: userID, IdempotencyKey: d.IdempotencyKey,
		Total: total, UserFees: userFees, MerchantFees: merchantFees,
	}, nil
}

func (c *cents) money(field string) (models.Money, error) {
	n, err := strconv.ParseInt(string(c.Cents), 10, 64)
	if err != nil {
		return models.Money{}, unprocessable("data.%s.cents is not an integer", field)
	}
	if n < 0 {
		return models.Money{}, unprocessable("data.%s.cents is negative", field)
	}
	if n > models.MaxCents {
		return models.Money{}, unprocessable("data.%s.cents is above the largest amount payoutd accepts", field)
	}
	if !models.ValidCurrency(c.Currency) {
		return models.Money{}, unprocessable("data.%s.currency is not a known currency", field)
	}
	return models.Money{Cents: n, Currency: c.Currency}, nil
}

// namedCents is a fee field as sent, with its name for errors.
type namedCents struct {
	name string
	c    *cents
}

// walletCurrency is the Coinflow wallet's currency, the one fees of a
// foreign payout are charged in.
const walletCurrency = "USD"

// sumFees adds the fee fields that are present. Fees are in the payout's
// currency or in the wallet's (a foreign payout's merchant fees are charged
// in USD), and one group's fees must share one currency; a
// zero fee's currency says nothing and is let pass. With no fee present the
// sum is zero in the payout's currency.
func sumFees(payoutCurrency string, fees []namedCents) (models.Money, error) {
	var sum models.Money
	for _, f := range fees {
		name, c := f.name, f.c
		if c == nil {
			continue
		}
		m, err := c.money(name)
		if err != nil {
			return models.Money{}, err
		}
		if m.Cents == 0 && sum.Currency != "" && m.Currency != sum.Currency {
			continue
		}
		if sum.Cents == 0 && m.Cents != 0 && sum.Currency != m.Currency {
			sum.Currency = "" // only zero fees so far: this one names the currency
		}
		if m.Cents != 0 && m.Currency != payoutCurrency && m.Currency != walletCurrency {
			return models.Money{}, unprocessable("data.%s is in neither the payout's currency nor the wallet's", name)
		}
		if sum, err = sum.Add(m); err != nil {
			return models.Money{}, unprocessable("data.%s is in another currency than the other fees", name)
		}
		if sum.Cents > models.MaxCents {
			return models.Money{}, unprocessable("fees add up to more than the largest amount payoutd accepts")
		}
	}
	if sum.Currency == "" {
		sum.Currency = payoutCurrency
	}
	return sum, nil
}

// Identity names the event a decoded webhook is, from the event's own
// identity: its type, its subject (the withdrawal's transaction signature,
// or the withdrawer's wallet) and its created time. Every delivery of one
// event (a retry, a re-signed copy) has the same identity.
func Identity(v any) string {
	var parts []string
	switch e := v.(type) {
	case *WithdrawEvent:
		parts = []string{e.Type, e.Signature, e.Created.Format(time.RFC3339Nano)}
	case *KYCEvent:
		parts = []string{e.Type, e.Wallet, e.Created.Format(time.RFC3339Nano)}
	case *RailEvent:
		parts = []string{e.Type, e.WithdrawID, e.RFIID, e.Created.Format(time.RFC3339Nano)}
	default:
		return ""
	}
	return "ev:" + hash(parts)
}

// Subject is the withdrawal (its transaction signature) and the user a
// decoded webhook names; "" for what it does not name.
func Subject(v any) (transaction, userID string) {
	switch e := v.(type) {
	case *WithdrawEvent:
		return e.Signature, e.UserID
	case *KYCEvent:
		return "", e.UserID
	case *RailEvent:
		// Coinflow's withdraw id: the transaction signature for a payout
		// paid out on chain, its transfer id otherwise.
		return e.WithdrawID, ""
	}
	return "", ""
}

// ContentHash names what a decoded withdraw webhook says that matters to
// finance: amounts, fees, user, idempotency key. Two deliveries of one
// event that differ in it are both kept. "" for a KYC event.
func ContentHash(v any) string {
	switch e := v.(type) {
	case *WithdrawEvent:
		return hash([]string{e.UserID, e.IdempotencyKey, moneyKey(e.Total), moneyKey(e.UserFees), moneyKey(e.MerchantFees)})
	}
	return "" // a KYC event carries no money: a redelivery is a duplicate
}

func moneyKey(m models.Money) string { return strconv.FormatInt(m.Cents, 10) + " " + m.Currency }

func hash(parts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// TypeOf is a decoded event's type.
func TypeOf(v any) string {
	switch e := v.(type) {
	case *WithdrawEvent:
		return e.Type
	case *KYCEvent:
		return e.Type
	case *RailEvent:
		return e.Type
	}
	return ""
}

// PeekType reads the event type of a body Decode refused, "" when it has
// none that can be read, for counting.
func PeekType(body []byte) string {
	var h struct {
		EventType string `json:"eventType"`
	}
	if !utf8.Valid(body) || json.Unmarshal(body, &h) != nil {
		return ""
	}
	return h.EventType
}
