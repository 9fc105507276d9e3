package coinflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/payoutd/payoutd/rail"
)

const (
	opAddBankAccount    = "add bank account"
	opAddDebitCard      = "add debit card"
	opAddIBAN           = "add iban"
	opAddPIX            = "add pix"
	opDeleteDestination = "delete destination"
	opSessionKey        = "session key"
)

// Bank account types (AddBankAccountV2ArgsType).
const (
	BankChecking = "checking"
	BankSavings  = "savings"
)

// Address is IAccountAddress: all four fields are required when sent.
type Address struct {
	Address1 string `json:"address1"`
	City     string `json:"city"`
	State    string `json:"state"`
	Zip      string `json:"zip"`
}

// BankAccount is a US bank account to save (AddBankAccountV2Args). Alias,
// RoutingNumber, AccountNumber and Type are required; the names and the
// address are optional. String does not print it.
type BankAccount struct {
	Alias         string
	RoutingNumber string
	AccountNumber string
	Type          string // BankChecking or BankSavings
	// The account holder's name, as one string or in parts; optional.
	Name, FirstName, LastName string
	Address                   *Address
}

// DebitCard is a US debit card to save (AddDebitCardArgs). CardToken comes
// from Coinflow's card tokenization (never the card number). String does
// not print it.
type DebitCard struct {
	CardToken string
	ExpMonth  int // 1–12
	ExpYear   int // 2029 or 29
	// Address is needed only when Coinflow answers ErrAddressRequired.
	Address *Address
}

// IBAN is a SEPA account, or a UK account number with its sort code, to
// save (IbanAccountData). Only Number is required; the fields are sent as
// given. String does not print it.
type IBAN struct {
	Number        string // the IBAN, or the UK 8-digit account number
	SortCode      string // UK only: the 6-digit sort code
	BIC           string // SEPA: required when Coinflow answers ErrBICRequired
	AccountHolder string
	Alias         string
}

// String and GoString keep account numbers, card tokens and names out of
// logs and of %v, %+v and %#v.
func (BankAccount) String() string     { return "coinflow.BankAccount{redacted}" }
func (b BankAccount) GoString() string { return b.String() }
func (DebitCard) String() string       { return "coinflow.DebitCard{redacted}" }
func (d DebitCard) GoString() string   { return d.String() }
func (IBAN) String() string            { return "coinflow.IBAN{redacted}" }
func (i IBAN) GoString() string        { return i.String() }

type bankAccountBody struct {
	Alias         string   `json:"alias"`
	RoutingNumber string   `json:"routingNumber"`
	AccountNumber string   `json:"accountNumber"`
	Type          string   `json:"type"`
	Name          string   `json:"name,omitempty"`
	FirstName     string   `json:"firstName,omitempty"`
	LastName      string   `json:"lastName,omitempty"`
	Address       *Address `json:"address,omitempty"`
}

type debitCardBody struct {
	CardToken string   `json:"cardToken"`
	ExpMonth  string   `json:"expMonth"` // "01"–"12"
	ExpYear   string   `json:"expYear"`  // two digits: 2026 is "26"
	Address   *Address `json:"address,omitempty"`
}

type ibanBody struct {
	Number        string `json:"number"`
	SortCode      string `json:"sortCode,omitempty"`
	BIC           string `json:"bic,omitempty"`
	AccountHolder string `json:"accountHolder,omitempty"`
	Alias         string `json:"alias,omitempty"`
}

type pixBody struct {
	PixKey string `json:"pixKey"`
}

// retryUnapplied is the retry policy of the add-destination POSTs. They
// carry no idempotency key and Coinflow documents no deduplication, so an
// add resent after it took effect may save a second destination. They are
// resent only after a failure that cannot have reached Coinflow's handler:
//   - 429: the rate limiter refuses before the handler runs [ASSUMED,
//     README §3: throttling's status is not documented];
//   - a connection that could not be made: nothing was sent.
//
// Everything else is not resent. 503 included: the spec's 503 "retry the
// request immediately" is written for the delegated payout, which has an
// idempotency key, and a gateway answers 502/503/504 also when the backend
// did the work and the answer was lost. Nor is a timeout, a connection
// broken after sending, or an unreadable 2xx (the add worked). Those
// errors report OutcomeUnknown: the caller reads GET /withdraw
// (GetWithdrawer), where every saved destination is listed, before adding
// again. A second destination is not lost money, but it is one more token
// to pay to by mistake, which is why a delay here is preferred to it.
func retryUnapplied(e *APIError) bool {
	if e.StatusCode == http.StatusTooManyRequests {
		return true
	}
	op, ok := errors.AsType[*net.OpError](e.Err)
	return e.StatusCode == 0 && ok && op.Op == "dial"
}

// rejectLocally is the error of a call refused before sending: it matches
// ErrRejected like Coinflow's 400 would, and names no value.
func rejectLocally(op, msg string) *APIError {
	return &APIError{Op: op, StatusCode: http.StatusBadRequest, Message: msg}
}

// AddBankAccount saves a US bank account for userID (POST
// /withdraw/account/v2) and returns the withdrawer with its destinations,
// the new one among them. Retried only as retryUnapplied says.
func (c *Client) AddBankAccount(ctx context.Context, userID string, b BankAccount) (*WithdrawerWithAccounts, error) {
	switch {
	case userID == "":
		return nil, rejectLocally(opAddBankAccount, "user id is required")
	case b.Alias == "" || b.RoutingNumber == "" || b.AccountNumber == "":
		return nil, rejectLocally(opAddBankAccount, "alias, routing number and account number are required")
	case b.Type != BankChecking && b.Type != BankSavings:
		return nil, rejectLocally(opAddBankAccount, "account type must be checking or savings")
	}
	body := bankAccountBody(b)
	var out struct {
		Withdrawer WithdrawerWithAccounts `json:"withdrawer"`
	}
	err := c.do(ctx, request{
		op: opAddBankAccount, method: http.MethodPost, path: "/withdraw/account/v2", body: body, userID: userID,
		retry: retryUnapplied, secrets: []string{b.AccountNumber, b.RoutingNumber, b.Name, b.FirstName, b.LastName},
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Withdrawer, nil
}

// AddDebitCard saves a debit card for userID (POST /withdraw/debit-card)
// and returns Coinflow's answer, a JSON string, as given: the spec says
// only "Ok"; presumably it is the new card's token. Callers that need the
// token for sure read it from GET /withdraw. ErrAddressRequired (412):
// Coinflow has no address for the user; resend with d.Address. Retried
// only as retryUnapplied says.
func (c *Client) AddDebitCard(ctx context.Context, userID string, d DebitCard) (string, error) {
	year := d.ExpYear
	if year >= 2000 && year <= 2099 {
		year -= 2000
	}
	switch {
	case userID == "":
		return "", rejectLocally(opAddDebitCard, "user id is required")
	case d.CardToken == "":
		return "", rejectLocally(opAddDebitCard, "card token is required")
	case d.ExpMonth < 1 || d.ExpMonth > 12:
		return "", rejectLocally(opAddDebitCard, "expiry month must be 1 to 12")
	case year < 0 || year > 99:
		return "", rejectLocally(opAddDebitCard, "expiry year must be 2000 to 2099 or two digits")
	}
	body := debitCardBody{CardToken: d.CardToken, ExpMonth: fmt.Sprintf("%02d", d.ExpMonth), ExpYear: fmt.Sprintf("%02d", year), Address: d.Address}
	return c.addForToken(ctx, request{
		op: opAddDebitCard, method: http.MethodPost, path: "/withdraw/debit-card", body: body, userID: userID,
		secrets: []string{d.CardToken},
	})
}

// AddIBAN saves an IBAN (or a UK account number and sort code) for userID
// (POST /withdraw/iban) and returns the new account's token.
// ErrBICRequired (426): resend with i.BIC. Retried only as retryUnapplied
// says.
func (c *Client) AddIBAN(ctx context.Context, userID string, i IBAN) (string, error) {
	switch {
	case userID == "":
		return "", rejectLocally(opAddIBAN, "user id is required")
	case strings.TrimSpace(i.Number) == "":
		return "", rejectLocally(opAddIBAN, "iban number is required")
	}
	body := ibanBody(i)
	return c.addForToken(ctx, request{
		op: opAddIBAN, method: http.MethodPost, path: "/withdraw/iban", body: body, userID: userID,
		secrets: []string{i.Number, i.AccountHolder},
	})
}

// AddPIX saves the PIX key for userID (POST /withdraw/pix) and returns
// Coinflow's answer, a JSON string, as given (the spec says only "Ok";
// presumably the token; GET /withdraw has it for sure). Retried only as
// retryUnapplied says.
func (c *Client) AddPIX(ctx context.Context, userID, key string) (string, error) {
	switch {
	case userID == "":
		return "", rejectLocally(opAddPIX, "user id is required")
	case strings.TrimSpace(key) == "":
		return "", rejectLocally(opAddPIX, "pix key is required")
	}
	return c.addForToken(ctx, request{
		op: opAddPIX, method: http.MethodPost, path: "/withdraw/pix", body: pixBody{PixKey: key}, userID: userID,
		secrets: []string{key},
	})
}

// addForToken sends an add whose 200 body is a JSON string.
func (c *Client) addForToken(ctx context.Context, r request) (string, error) {
	r.retry = retryUnapplied
	var token string
	if err := c.do(ctx, r, &token); err != nil {
		return "", err
	}
	return token, nil
}

// deletePaths are the DELETE endpoints per kind of destination; Coinflow
// has none for EFT accounts.
var deletePaths = map[rail.Destination]string{
	rail.BankAccount: "/withdraw/account/",
	rail.DebitCard:   "/withdraw/card/",
	rail.IBANAccount: "/withdraw/iban/",
	rail.PIXKey:      "/withdraw/pix/",
}

// DeleteDestination deletes userID's saved destination token of kind kind.
// Coinflow keeps it in GET /withdraw with isDeleted set. Deleting is
// idempotent in effect, so the call is retried like a read; a 404 after a
// retry (APIError.Attempts > 1) may mean that the attempt whose answer was
// lost did the deleting. ErrNotFound (404): no such destination. An EFT
// account cannot be deleted through the API: ErrRejected without sending.
func (c *Client) DeleteDestination(ctx context.Context, userID string, kind rail.Destination, token string) error {
	prefix, ok := deletePaths[kind]
	switch {
	case !ok:
		return rejectLocally(opDeleteDestination, fmt.Sprintf("no delete operation for %q destinations", kind))
	case userID == "" || token == "":
		return rejectLocally(opDeleteDestination, "user id and token are required")
	}
	return c.do(ctx, request{op: opDeleteDestination, method: http.MethodDelete, path: prefix + url.PathEscape(token), userID: userID}, nil)
}

// SessionKey returns a session key for userID (GET /auth/session-key): a
// JWT valid for 24 hours that Coinflow's hosted card tokenization and bank
// authentication take as x-coinflow-auth-session-key. It is a credential:
// hand it to the user's browser and keep it nowhere. An empty key is
// ErrMalformedResponse.
func (c *Client) SessionKey(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", rejectLocally(opSessionKey, "user id is required")
	}
	var out struct {
		Key string `json:"key"`
	}
	if err := c.do(ctx, request{op: opSessionKey, method: http.MethodGet, path: "/auth/session-key", userID: userID}, &out); err != nil {
		return "", err
	}
	if out.Key == "" {
		return "", &APIError{Op: opSessionKey, StatusCode: http.StatusOK, Err: fmt.Errorf("%w: no key in the answer", ErrMalformedResponse)}
	}
	return out.Key, nil
}
