package coinflow_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

var alice = coinflow.USIdentity{
	Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell",
	Line1: "1 Main St", Line2: "Apt 4", City: "Springfield", State: "IL", Zip: "62701", Country: "US",
	DOB: time.Date(1990, 2, 15, 0, 0, 0, 0, time.UTC), SSN: "123-45-6789",
}

// aliceSecrets are the values of alice that must never show in an error.
var aliceSecrets = []string{"alice@example.com", "123-45-6789", "123456789", "19900215", "1 Main St", "Liddell"}

const approvedWithdrawer = `{"withdrawer":{"_id":"65f1a1b2c3d4e5f600000009","wallet":"acme-payoutsʬu-9","blockchain":"user",
	"wallets":[],"email":"alice@example.com","availability":{"status":"Functional","reason":"n/a","editor":"system"},
	"currency":"USD","originalCurrency":"USD","merchant":"65f0c0ffee00000000a00001",
	"verification":{"reference":"inq_1","status":"approved","vendor":"persona"},"riskScoreOverride":false,"country":"US",
	"user":true,"watchlistExempt":"Passed"}}`

func TestRegisterUSSendsKycUsRequestBody(t *testing.T) {
	t.Parallel()
	noLine2 := alice
	noLine2.Line2 = "  "
	noLine2.SSN = "987654321"
	// A date of birth is a calendar date: the one written in its location.
	noLine2.DOB = time.Date(1985, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600))
	for _, tc := range []struct {
		name     string
		id       coinflow.USIdentity
		redirect string
		want     string
	}{{
		name: "full", id: alice, redirect: "https://acme.example/kyc-done",
		want: `{"info":{"email":"alice@example.com","firstName":"Alice","surName":"Liddell","physicalAddress":"1 Main St, Apt 4",
			"city":"Springfield","state":"IL","zip":"62701","country":"US","dob":"19900215","ssn":"6789"},
			"redirectLink":"https://acme.example/kyc-done"}`,
	}, {
		name: "no line 2, no redirect", id: noLine2,
		want: `{"info":{"email":"alice@example.com","firstName":"Alice","surName":"Liddell","physicalAddress":"1 Main St",
			"city":"Springfield","state":"IL","zip":"62701","country":"US","dob":"19851231","ssn":"4321"}}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, reply{status: http.StatusOK, body: approvedWithdrawer})
			reg, err := c.RegisterUS(t.Context(), "u-9", tc.id, tc.redirect)
			require.NoError(t, err)
			requireSent(t, srv.only(t), "POST", "/withdraw/kyc", "u-9", tc.want)

			require.True(t, reg.Approved)
			require.Empty(t, reg.VerificationLink)
			require.Equal(t, "65f1a1b2c3d4e5f600000009", reg.Withdrawer.ID)
			require.Equal(t, "u-9", reg.Withdrawer.UserID())
			require.Equal(t, coinflow.VerificationApproved, reg.Withdrawer.Verification.Status)
			require.Equal(t, "USD", reg.Withdrawer.OriginalCurrency)
		})
	}
}

func TestRegisterAnswers(t *testing.T) {
	t.Parallel()
	pending := `{"withdrawer":{"_id":"w-2","wallet":"acmeʬu-2","verification":{"status":"pending","vendor":"persona","reference":"r"},"user":true}}`
	for _, tc := range []struct {
		name     string
		reply    reply
		approved bool
		link     string
		id, user string
	}{
		{"approved at once", reply{status: 200, body: approvedWithdrawer}, true, "", "65f1a1b2c3d4e5f600000009", "u-9"},
		{"200 but not approved", reply{status: 200, body: pending}, false, "", "w-2", "u-2"},
		{"451 is a registration with a link", reply{status: 451, body: fixture(t, "withdraw-kyc-451.json")},
			false, "https://in.sumsub.com/websdk/p/4oK9eWLHUDJjebB7b6ukRYB9", "65f1a1b2c3d4e5f600000002", "u-1002"},
		{"451 without a link", reply{status: 451, body: `{"verification":{"status":"pending"},"withdrawer":{"_id":"w-3","wallet":"acmeʬu-3"}}`},
			false, "", "w-3", "u-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, call := range []struct {
				name string
				do   func(c *coinflow.Client) (*coinflow.Registration, error)
			}{
				{"US", func(c *coinflow.Client) (*coinflow.Registration, error) {
					return c.RegisterUS(t.Context(), "u-1", alice, "")
				}},
				{"DocV", func(c *coinflow.Client) (*coinflow.Registration, error) {
					return c.RegisterDocV(t.Context(), "u-1", "bob@example.com", "GB", "")
				}},
			} {
				srv, c := newStub(t, tc.reply)
				reg, err := call.do(c)
				require.NoError(t, err, call.name)
				srv.only(t)
				require.Equal(t, tc.approved, reg.Approved, call.name)
				require.Equal(t, tc.link, reg.VerificationLink, call.name)
				require.Equal(t, tc.id, reg.Withdrawer.ID, call.name)
				require.Equal(t, tc.user, reg.Withdrawer.UserID(), call.name)
			}
		})
	}
}

func TestRegisterDocVSendsKycDocVRequestBody(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 451, body: fixture(t, "withdraw-kyc-451.json")})
	_, err := c.RegisterDocV(t.Context(), "u-1002", "bob@example.com", "GB", "https://acme.example/kyc-done")
	require.NoError(t, err)
	_, err = c.RegisterDocV(t.Context(), "u-1002", "bob@example.com", "GB", "")
	require.NoError(t, err)
	sent := srv.requests()
	require.Len(t, sent, 2)
	requireSent(t, sent[0], "POST", "/withdraw/kyc", "u-1002", `{"email":"bob@example.com","country":"GB","redirectLink":"https://acme.example/kyc-done"}`)
	requireSent(t, sent[1], "POST", "/withdraw/kyc", "u-1002", `{"email":"bob@example.com","country":"GB"}`)
}

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	// Coinflow's text echoes the request: none of it may reach the error.
	echo := fmt.Sprintf(`{"msg":"cannot verify %s born 19900215 ssn 123456789 / 6789 at 1 Main St"}`, alice.Email)
	for _, tc := range []struct {
		name     string
		replies  []reply
		want     error
		status   int
		attempts int
	}{
		{"409 already registered", []reply{{status: 409, body: `{"msg":"Business already exists for this wallet and merchant"}`}},
			coinflow.ErrAlreadyRegistered, 409, 1},
		{"400 rejected", []reply{{status: 400, body: echo}}, coinflow.ErrRejected, 400, 1},
		{"429 retried to the end", []reply{{status: 429, body: echo}}, coinflow.ErrRateLimited, 429, 3},
		{"503 retried to the end", []reply{{status: 503, body: `{"msg":"try again"}`}}, coinflow.ErrUnavailable, 503, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, tc.replies...)
			_, err := c.RegisterUS(t.Context(), "u-1", alice, "")
			require.ErrorIs(t, err, tc.want)
			for _, other := range []error{coinflow.ErrAlreadyRegistered, coinflow.ErrRejected, coinflow.ErrAddressRequired, coinflow.ErrBICRequired} {
				require.Equal(t, other == tc.want, errors.Is(err, other), "errors.Is(err, %v)", other)
			}
			e := apiError(t, err)
			require.Equal(t, tc.status, e.StatusCode)
			require.Equal(t, tc.attempts, e.Attempts)
			require.Len(t, srv.requests(), tc.attempts)
			requireNoSecret(t, err, aliceSecrets...)
			requireNoSecret(t, err, testAPIKey)
		})
	}
}

// TestRegisterIsResent: Coinflow creates the withdrawer if missing, so a
// KYC POST is resent like a read, with the same body.
func TestRegisterIsResent(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 503, body: `{"msg":"unavailable"}`}, reply{status: 200, body: approvedWithdrawer})
	reg, err := c.RegisterUS(t.Context(), "u-9", alice, "")
	require.NoError(t, err)
	require.True(t, reg.Approved)
	sent := srv.requests()
	require.Len(t, sent, 2)
	require.Equal(t, sent[0].Body, sent[1].Body)
}

func TestRegisterRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(id *coinflow.USIdentity){
		"short ssn":     func(id *coinflow.USIdentity) { id.SSN = "12345678" },
		"ssn letters":   func(id *coinflow.USIdentity) { id.SSN = "12345678x" },
		"ssn last 4":    func(id *coinflow.USIdentity) { id.SSN = "6789" },
		"no dob":        func(id *coinflow.USIdentity) { id.DOB = time.Time{} },
		"no email":      func(id *coinflow.USIdentity) { id.Email = "" },
		"no last name":  func(id *coinflow.USIdentity) { id.LastName = " " },
		"no country":    func(id *coinflow.USIdentity) { id.Country = "" },
		"no address l1": func(id *coinflow.USIdentity) { id.Line1 = "" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, reply{status: 200, body: approvedWithdrawer})
			id := alice
			mutate(&id)
			_, err := c.RegisterUS(t.Context(), "u-1", id, "")
			require.ErrorIs(t, err, coinflow.ErrRejected)
			requireNoSecret(t, err, aliceSecrets...)
			requireNoSecret(t, err, "12345678", "6789")
			require.Empty(t, srv.requests())
		})
	}
	srv, c := newStub(t, reply{status: 200, body: approvedWithdrawer})
	_, err := c.RegisterUS(t.Context(), "", alice, "")
	require.ErrorIs(t, err, coinflow.ErrRejected)
	_, err = c.RegisterDocV(t.Context(), "u-1", "", "GB", "")
	require.ErrorIs(t, err, coinflow.ErrRejected)
	_, err = c.RegisterDocV(t.Context(), "u-1", "bob@example.com", "", "")
	require.ErrorIs(t, err, coinflow.ErrRejected)
	require.Empty(t, srv.requests())
}

// TestIdentityIsNotPrinted: formatting an identity shows none of it.
func TestIdentityIsNotPrinted(t *testing.T) {
	t.Parallel()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, alice)
		for _, s := range append(aliceSecrets, "6789", "Alice") {
			require.NotContains(t, out, s, verb)
		}
	}
}
