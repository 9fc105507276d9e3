package coinflow_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/rail"
)

var (
	checking = coinflow.BankAccount{
		Alias: "Checking", RoutingNumber: "021000021", AccountNumber: "000123456789", Type: coinflow.BankChecking,
		FirstName: "Alice", LastName: "Liddell",
	}
	card = coinflow.DebitCard{CardToken: "tok_4242deadbeefcafe", ExpMonth: 3, ExpYear: 2029}
	iban = coinflow.IBAN{Number: "DE89370400440532013000", BIC: "COBADEFFXXX", AccountHolder: "Bob Brown", Alias: "Girokonto"}
	pix  = "bob.pix@example.com.br"

	// destinationSecrets are the request values no error may show.
	destinationSecrets = []string{"000123456789", "021000021", "Liddell", "tok_4242deadbeefcafe", "DE89370400440532013000", "Bob Brown", pix}
)

// withAccounts is a 200 body of POST /withdraw/account/v2: the
// withdrawer with its destinations, the bank account's number included as
// the spec allows.
const withAccounts = `{"withdrawer":{"_id":"w-1","wallet":"acmeʬu-1","blockchain":"user","email":"alice@example.com",
	"currency":"USD","verification":{"status":"approved","vendor":"persona","reference":"r"},
	"bankAccounts":[{"last4":"6789","accountHash":"h","alias":"Checking","token":"bnk_new","reference":"ref",
	  "accountNumber":"000123456789","accountNumberOnlyHash":"h2","isTokenized":true}],
	"cards":[],"ibans":[],"pixes":[],"efts":[],"p2cAvailable":true,"applePayAvailable":false,
	"bankCurrencyOptions":["USD"],"freeWithdrawSpeeds":[]}}`

// addCall is one add-destination operation, run against a stub.
type addCall struct {
	name, path, body string
	run              func(ctx context.Context, c *coinflow.Client) (string, error)
}

var addCalls = []addCall{{
	name: "bank account", path: "/withdraw/account/v2",
	body: `{"alias":"Checking","routingNumber":"021000021","accountNumber":"000123456789","type":"checking","firstName":"Alice","lastName":"Liddell"}`,
	run: func(ctx context.Context, c *coinflow.Client) (string, error) {
		w, err := c.AddBankAccount(ctx, "u-1", checking)
		if err != nil {
			return "", err
		}
		return w.BankAccounts[0].Token, nil
	},
}, {
	name: "debit card", path: "/withdraw/debit-card",
	body: `{"cardToken":"tok_4242deadbeefcafe","expMonth":"03","expYear":"29"}`,
	run:  func(ctx context.Context, c *coinflow.Client) (string, error) { return c.AddDebitCard(ctx, "u-1", card) },
}, {
	name: "iban", path: "/withdraw/iban",
	body: `{"number":"DE89370400440532013000","bic":"COBADEFFXXX","accountHolder":"Bob Brown","alias":"Girokonto"}`,
	run:  func(ctx context.Context, c *coinflow.Client) (string, error) { return c.AddIBAN(ctx, "u-1", iban) },
}, {
	name: "pix", path: "/withdraw/pix",
	body: `{"pixKey":"bob.pix@example.com.br"}`,
	run:  func(ctx context.Context, c *coinflow.Client) (string, error) { return c.AddPIX(ctx, "u-1", pix) },
}}

// okReply is the 200 answer of an add: the withdrawer for the bank
// account, a token string for the others.
func (a addCall) okReply() reply {
	if a.path == "/withdraw/account/v2" {
		return reply{status: 200, body: withAccounts}
	}
	return reply{status: 200, body: `"tok_saved"`}
}

func TestAddDestinationSends(t *testing.T) {
	t.Parallel()
	for _, a := range addCalls {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, a.okReply())
			token, err := a.run(t.Context(), c)
			require.NoError(t, err)
			requireSent(t, srv.only(t), "POST", a.path, "u-1", a.body)
			if a.path == "/withdraw/account/v2" {
				require.Equal(t, "bnk_new", token)
			} else {
				require.Equal(t, "tok_saved", token)
			}
		})
	}
}

func TestAddBankAccountReturnsTheWithdrawerWithoutTheAccountNumber(t *testing.T) {
	t.Parallel()
	_, c := newStub(t, reply{status: 200, body: withAccounts})
	w, err := c.AddBankAccount(t.Context(), "u-1", coinflow.BankAccount{
		Alias: "Savings", RoutingNumber: "021000021", AccountNumber: "000123456789", Type: coinflow.BankSavings,
		Name: "Alice Liddell", Address: &coinflow.Address{Address1: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"},
	})
	require.NoError(t, err)
	require.Equal(t, "w-1", w.ID)
	require.Len(t, w.BankAccounts, 1)
	require.Equal(t, coinflow.Destination{Last4: "6789", Token: "bnk_new", Alias: "Checking"}, w.BankAccounts[0])
	for _, verb := range []string{"%+v", "%#v"} {
		require.NotContains(t, fmt.Sprintf(verb, *w), "000123456789", "the account number is not decoded")
	}
}

func TestAddBodiesOptionalFields(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 200, body: withAccounts}, reply{status: 200, body: withAccounts},
		reply{status: 200, body: `"crd_1"`}, reply{status: 200, body: `"crd_2"`}, reply{status: 200, body: `"gb_1"`})
	addr := &coinflow.Address{Address1: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"}
	_, err := c.AddBankAccount(t.Context(), "u-1", coinflow.BankAccount{
		Alias: "Savings", RoutingNumber: "1", AccountNumber: "2", Type: coinflow.BankSavings, Name: "Alice Liddell", Address: addr,
	})
	require.NoError(t, err)
	_, err = c.AddBankAccount(t.Context(), "u-1", coinflow.BankAccount{Alias: "a", RoutingNumber: "1", AccountNumber: "2", Type: coinflow.BankChecking})
	require.NoError(t, err)
	_, err = c.AddDebitCard(t.Context(), "u-1", coinflow.DebitCard{CardToken: "t", ExpMonth: 12, ExpYear: 31, Address: addr})
	require.NoError(t, err)
	_, err = c.AddDebitCard(t.Context(), "u-1", coinflow.DebitCard{CardToken: "t", ExpMonth: 1, ExpYear: 2000})
	require.NoError(t, err)
	_, err = c.AddIBAN(t.Context(), "u-1", coinflow.IBAN{Number: "12345678", SortCode: "401276"})
	require.NoError(t, err)

	sent := srv.requests()
	require.Len(t, sent, 5)
	requireSent(t, sent[0], "POST", "/withdraw/account/v2", "u-1",
		`{"alias":"Savings","routingNumber":"1","accountNumber":"2","type":"savings","name":"Alice Liddell",
		  "address":{"address1":"1 Main St","city":"Springfield","state":"IL","zip":"62701"}}`)
	requireSent(t, sent[1], "POST", "/withdraw/account/v2", "u-1", `{"alias":"a","routingNumber":"1","accountNumber":"2","type":"checking"}`)
	requireSent(t, sent[2], "POST", "/withdraw/debit-card", "u-1",
		`{"cardToken":"t","expMonth":"12","expYear":"31","address":{"address1":"1 Main St","city":"Springfield","state":"IL","zip":"62701"}}`)
	requireSent(t, sent[3], "POST", "/withdraw/debit-card", "u-1", `{"cardToken":"t","expMonth":"01","expYear":"00"}`)
	requireSent(t, sent[4], "POST", "/withdraw/iban", "u-1", `{"number":"12345678","sortCode":"401276"}`)
}

// TestAddTokenAnswerAsGiven: the spec says only "Ok" for the card and PIX
// answers; whatever string Coinflow sends is returned for the caller to
// check against GET /withdraw.
func TestAddTokenAnswerAsGiven(t *testing.T) {
	t.Parallel()
	_, c := newStub(t, reply{status: 200, body: `"Ok"`}, reply{status: 200, body: `"crd_h8MKQm17EsCQcsH1g8BwD6op"`})
	tok, err := c.AddDebitCard(t.Context(), "u-1", card)
	require.NoError(t, err)
	require.Equal(t, "Ok", tok)
	tok, err = c.AddDebitCard(t.Context(), "u-1", card)
	require.NoError(t, err)
	require.Equal(t, "crd_h8MKQm17EsCQcsH1g8BwD6op", tok)
}

func TestAddDestinationSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []error{coinflow.ErrAddressRequired, coinflow.ErrBICRequired, coinflow.ErrAlreadyRegistered, coinflow.ErrRejected, coinflow.ErrNotFound}
	for _, tc := range []struct {
		name    string
		call    int // index in addCalls
		reply   reply
		want    error
		message string
	}{
		{"card without address", 1, reply{status: 412, body: `{"msg":"User Address Info Required"}`}, coinflow.ErrAddressRequired, "User Address Info Required"},
		{"iban without bic: a bare string body", 2, reply{status: 426, body: `"BIC required"`}, coinflow.ErrBICRequired, "BIC required"},
		{"412 elsewhere is a rejection", 3, reply{status: 412, body: `{"msg":"no"}`}, coinflow.ErrRejected, "no"},
		{"426 elsewhere is a rejection", 1, reply{status: 426, body: `"no"`}, coinflow.ErrRejected, "no"},
		{"409 outside KYC is a rejection", 0, reply{status: 409, body: `{"msg":"exists"}`}, coinflow.ErrRejected, "exists"},
		{"400", 0, reply{status: 400, body: `{"msg":"Invalid routing number"}`}, coinflow.ErrRejected, "Invalid routing number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, tc.reply)
			_, err := addCalls[tc.call].run(t.Context(), c)
			for _, s := range sentinels {
				require.Equal(t, s == tc.want, errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			e := apiError(t, err)
			require.Equal(t, tc.reply.status, e.StatusCode)
			require.Equal(t, tc.message, e.Message)
			require.Equal(t, 1, e.Attempts)
			srv.only(t)
		})
	}
}

// TestAddDestinationRetries: an add is resent only when the failed attempt
// cannot have saved anything, since a resent add may save a second
// destination.
func TestAddDestinationRetries(t *testing.T) {
	t.Parallel()
	for _, a := range addCalls {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name           string
				replies        []reply
				ok             bool
				calls          int
				outcomeUnknown bool
			}{
				{"429 is resent", []reply{{status: 429, body: `{"msg":"slow down"}`, retryAfter: 1e9}, a.okReply()}, true, 2, false},
				{"429 to the end", []reply{{status: 429, body: `{"msg":"slow down"}`}}, false, 3, false},
				{"503 is not resent", []reply{{status: 503, body: `{"msg":"retry"}`}, a.okReply()}, false, 1, true},
				{"500 is not resent", []reply{{status: 500, body: `{"msg":"oops"}`}, a.okReply()}, false, 1, true},
				{"502 is not resent", []reply{{status: 502, body: `bad gateway`}, a.okReply()}, false, 1, true},
				{"an unreadable 200 is not resent", []reply{{status: 200, body: `{"withdrawer":`}, a.okReply()}, false, 1, true},
			} {
				srv, c := newStub(t, tc.replies...)
				_, err := a.run(t.Context(), c)
				sent := srv.requests()
				require.Len(t, sent, tc.calls, tc.name)
				for _, s := range sent {
					require.Equal(t, sent[0].Body, s.Body, "%s: every attempt sends the same bytes", tc.name)
				}
				if tc.ok {
					require.NoError(t, err, tc.name)
					continue
				}
				e := apiError(t, err)
				require.Equal(t, tc.calls, e.Attempts, tc.name)
				require.Equal(t, tc.outcomeUnknown, e.OutcomeUnknown(), tc.name)
			}
		})
	}
}

// TestAddDestinationResentWhenNothingWasSent: a connection that could not
// be made sent nothing, so it is retried.
func TestAddDestinationResentWhenNothingWasSent(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c, err := coinflow.New(coinflow.Config{BaseURL: url, APIKey: testAPIKey, MaxAttempts: 3, SleepFunc: noSleep})
	require.NoError(t, err)
	for _, a := range addCalls {
		_, err := a.run(t.Context(), c)
		e := apiError(t, err)
		require.Zero(t, e.StatusCode, a.name)
		require.Equal(t, 3, e.Attempts, a.name)
		requireNoSecret(t, err, destinationSecrets...)
	}
}

// TestAddDestinationErrorsShowNoRequestValue: Coinflow's text echoing the
// whole request loses every value of it.
func TestAddDestinationErrorsShowNoRequestValue(t *testing.T) {
	t.Parallel()
	for _, a := range addCalls {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			body := strings.ReplaceAll(a.body, `"`, `'`)
			for _, status := range []int{400, 412, 426, 500} {
				_, c := newStub(t, reply{status: status, body: `{"msg":` + jsonString("invalid: "+body) + `}`})
				_, err := a.run(t.Context(), c)
				requireNoSecret(t, err, destinationSecrets...)
				require.Contains(t, apiError(t, err).Message, "[redacted]")
			}
		})
	}
}

func TestAddDestinationRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 200, body: `"x"`})
	ctx := t.Context()
	bank := func(mut func(b *coinflow.BankAccount)) error {
		b := checking
		mut(&b)
		_, err := c.AddBankAccount(ctx, "u-1", b)
		return err
	}
	debit := func(mut func(d *coinflow.DebitCard)) error {
		d := card
		mut(&d)
		_, err := c.AddDebitCard(ctx, "u-1", d)
		return err
	}
	for name, err := range map[string]error{
		"bank: no user":         func() error { _, err := c.AddBankAccount(ctx, "", checking); return err }(),
		"bank: no alias":        bank(func(b *coinflow.BankAccount) { b.Alias = "" }),
		"bank: no routing":      bank(func(b *coinflow.BankAccount) { b.RoutingNumber = "" }),
		"bank: no number":       bank(func(b *coinflow.BankAccount) { b.AccountNumber = "" }),
		"bank: type":            bank(func(b *coinflow.BankAccount) { b.Type = "Checking" }),
		"card: no token":        debit(func(d *coinflow.DebitCard) { d.CardToken = "" }),
		"card: month 0":         debit(func(d *coinflow.DebitCard) { d.ExpMonth = 0 }),
		"card: month 13":        debit(func(d *coinflow.DebitCard) { d.ExpMonth = 13 }),
		"card: year 100":        debit(func(d *coinflow.DebitCard) { d.ExpYear = 100 }),
		"card: year 2100":       debit(func(d *coinflow.DebitCard) { d.ExpYear = 2100 }),
		"card: negative year":   debit(func(d *coinflow.DebitCard) { d.ExpYear = -1 }),
		"iban: no number":       func() error { _, err := c.AddIBAN(ctx, "u-1", coinflow.IBAN{Alias: "x"}); return err }(),
		"pix: no key":           func() error { _, err := c.AddPIX(ctx, "u-1", " "); return err }(),
		"pix: no user":          func() error { _, err := c.AddPIX(ctx, "", pix); return err }(),
		"delete: eft":           c.DeleteDestination(ctx, "u-1", rail.EFTAccount, "eft_1"),
		"delete: unknown kind":  c.DeleteDestination(ctx, "u-1", "venmo", "v_1"),
		"delete: no token":      c.DeleteDestination(ctx, "u-1", rail.DebitCard, ""),
		"session key: no user ": func() error { _, err := c.SessionKey(ctx, ""); return err }(),
	} {
		require.ErrorIs(t, err, coinflow.ErrRejected, name)
		requireNoSecret(t, err, destinationSecrets...)
	}
	require.Empty(t, srv.requests())
}

// TestDestinationsAreNotPrinted: formatting a request shows none of it.
func TestDestinationsAreNotPrinted(t *testing.T) {
	t.Parallel()
	for _, v := range []any{checking, card, iban, &checking} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range destinationSecrets {
				require.NotContains(t, out, s, verb)
			}
		}
	}
}

func TestDeleteDestination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind  rail.Destination
		token string
		path  string
	}{
		{rail.BankAccount, "bnk_1", "/withdraw/account/bnk_1"},
		{rail.DebitCard, "crd_1", "/withdraw/card/crd_1"},
		{rail.IBANAccount, "iban_1", "/withdraw/iban/iban_1"},
		{rail.PIXKey, "pix_1", "/withdraw/pix/pix_1"},
		{rail.DebitCard, "a/b c?d#e%f", "/withdraw/card/a%2Fb%20c%3Fd%23e%25f"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, reply{status: 200, body: withAccounts})
			require.NoError(t, c.DeleteDestination(t.Context(), "u-1", tc.kind, tc.token))
			got := srv.only(t)
			requireSent(t, got, "DELETE", tc.path, "u-1", "")
			require.Empty(t, got.Query)
		})
	}
}

func TestDeleteDestinationErrors(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 404, body: `{"msg":"Account not found"}`})
	err := c.DeleteDestination(t.Context(), "u-1", rail.BankAccount, "bnk_gone")
	require.ErrorIs(t, err, coinflow.ErrNotFound)
	require.NotErrorIs(t, err, coinflow.ErrRejected)
	require.NotContains(t, err.Error(), "bnk_gone")
	srv.only(t)

	// Deleting is idempotent in effect: resent like a read.
	srv, c = newStub(t, reply{status: 503, body: `{"msg":"retry"}`}, reply{status: 200, body: withAccounts})
	require.NoError(t, c.DeleteDestination(t.Context(), "u-1", rail.PIXKey, "pix_1"))
	require.Len(t, srv.requests(), 2)
}

func TestSessionKey(t *testing.T) {
	t.Parallel()
	const key = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJ1LTEifQ.c2lnbmF0dXJl"
	srv, c := newStub(t, reply{status: 200, body: `{"key":"` + key + `"}`})
	got, err := c.SessionKey(t.Context(), "u-1")
	require.NoError(t, err)
	require.Equal(t, key, got)
	requireSent(t, srv.only(t), "GET", "/auth/session-key", "u-1", "")

	for _, body := range []string{`{"key":""}`, `{}`, `{"key":null}`} {
		_, c := newStub(t, reply{status: 200, body: body})
		_, err := c.SessionKey(t.Context(), "u-1")
		require.ErrorIs(t, err, coinflow.ErrMalformedResponse, body)
	}
	_, c = newStub(t, reply{status: 401, body: `{"msg":"Unauthorized"}`})
	_, err = c.SessionKey(t.Context(), "u-1")
	require.ErrorIs(t, err, coinflow.ErrUnauthorized)

	srv, c = newStub(t, reply{status: 502, body: `{"msg":"bad gateway"}`}, reply{status: 200, body: `{"key":"` + key + `"}`})
	got, err = c.SessionKey(t.Context(), "u-1")
	require.NoError(t, err)
	require.Equal(t, key, got)
	require.Len(t, srv.requests(), 2, "a read: resent")
}
