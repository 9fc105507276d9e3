package coinflowtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

type withdrawerBody struct {
	ID           string `json:"_id"`
	Wallet       string `json:"wallet"`
	Blockchain   string `json:"blockchain"`
	Email        string `json:"email"`
	Availability struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"availability"`
	Verification struct {
		Status string `json:"status"`
		Vendor string `json:"vendor"`
	} `json:"verification"`
	Currency     string `json:"currency"`
	BankAccounts []struct {
		Token string `json:"token"`
		Last4 string `json:"last4"`
	} `json:"bankAccounts"`
	Cards []struct {
		Token string `json:"token"`
	} `json:"cards"`
}

func TestMerchantWithdrawersAndBlock(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	alice := b.addUser(t, "u-1001")
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1002", Email: "bob@example.com", Country: "GB", Verification: "pending"})
	require.NoError(t, err)
	_, err = b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1003", Verification: "rejected", Blocked: true})
	require.NoError(t, err)

	var all []withdrawerBody
	b.call(t, http.MethodGet, "/merchant/withdrawers", nil).decode(t, &all)
	require.Len(t, all, 3)
	require.Equal(t, alice.ID, all[0].ID)
	require.Equal(t, "acme-payoutsʬu-1001", all[0].Wallet)
	require.Equal(t, "user", all[0].Blockchain)
	require.Equal(t, "approved", all[0].Verification.Status)
	require.Equal(t, "GBP", all[1].Currency)
	require.Equal(t, "sumsub", all[1].Verification.Vendor)
	require.Equal(t, "Blocked", all[2].Availability.Status)

	var some []withdrawerBody
	b.call(t, http.MethodGet, "/merchant/withdrawers?blocked=true", nil).decode(t, &some)
	require.Len(t, some, 1)
	b.call(t, http.MethodGet, "/merchant/withdrawers?blocked=false&search=BOB@", nil).decode(t, &some)
	require.Len(t, some, 1)
	require.Equal(t, "bob@example.com", some[0].Email)

	r := b.call(t, http.MethodPut, "/merchant/block-withdrawer/"+alice.ID, map[string]any{"status": "Blocked", "reason": "fraud"})
	require.Equal(t, http.StatusOK, r.Status)
	require.Empty(t, r.Body)
	w, _ := b.srv.Withdrawer("u-1001")
	require.True(t, w.Blocked)
	require.Equal(t, http.StatusForbidden, b.payout(t, "u-1001", "bnk_u-1001", "asap", 100, key(1)).Status)
	require.Equal(t, http.StatusBadRequest, b.call(t, http.MethodPut, "/merchant/block-withdrawer/"+alice.ID, map[string]any{"status": "Gone", "reason": "x"}).Status)
	require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPut, "/merchant/block-withdrawer/nope", map[string]any{"status": "Functional", "reason": "x"}).Status)
	require.NoError(t, b.srv.SetBlocked("u-1001", false))
	b.mustPayout(t, "u-1001", "bnk_u-1001", "asap", 100, key(1))
}

func TestGetWithdrawer(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-2", Verification: "pending"})
	require.NoError(t, err)

	var got struct {
		Withdrawer withdrawerBody `json:"withdrawer"`
	}
	r := b.call(t, http.MethodGet, "/withdraw", nil, "x-coinflow-auth-user-id", "u-1", "x-coinflow-auth-blockchain", "solana")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.decode(t, &got)
	require.Equal(t, "bnk_u-1", got.Withdrawer.BankAccounts[0].Token)
	require.Equal(t, "crd_u-1", got.Withdrawer.Cards[0].Token)

	// The wallet header names the user too.
	r = b.call(t, http.MethodGet, "/withdraw", nil, "x-coinflow-auth-wallet", "acme-payoutsʬu-1")
	require.Equal(t, http.StatusOK, r.Status)

	r = b.call(t, http.MethodGet, "/withdraw?redirectLink=https://acme.example/done", nil, "x-coinflow-auth-user-id", "u-2")
	require.Equal(t, http.StatusUnavailableForLegalReasons, r.Status)
	var v struct {
		VerificationLink string `json:"verificationLink"`
		RedirectLink     string `json:"redirectLink"`
		Verification     struct {
			Status string `json:"status"`
		} `json:"verification"`
		Withdrawer withdrawerBody `json:"withdrawer"`
	}
	r.decode(t, &v)
	require.Contains(t, v.VerificationLink, "redirect-uri=https%3A%2F%2Facme.example%2Fdone")
	require.Equal(t, "https://acme.example/done", v.RedirectLink)
	require.Equal(t, "pending", v.Verification.Status)
	require.Equal(t, "acme-payoutsʬu-2", v.Withdrawer.Wallet)

	require.Equal(t, http.StatusNotFound, b.call(t, http.MethodGet, "/withdraw", nil, "x-coinflow-auth-user-id", "u-x").Status)
	require.Equal(t, 4, b.srv.Calls(coinflowtest.OpGetWithdrawer))
}

func TestKYCAndDestinations(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	us := map[string]any{"info": map[string]any{
		"email": "alice@example.com", "firstName": "Alice", "surName": "Smith", "physicalAddress": "1 Main St",
		"city": "Springfield", "state": "IL", "zip": "62701", "country": "US", "dob": "19900101", "ssn": "1234",
	}}
	r := b.call(t, http.MethodPost, "/withdraw/kyc", us, "x-coinflow-auth-user-id", "u-us")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var ok struct {
		Withdrawer struct {
			withdrawerBody
			User bool `json:"user"`
		} `json:"withdrawer"`
	}
	r.decode(t, &ok)
	require.Equal(t, "approved", ok.Withdrawer.Verification.Status)
	require.True(t, ok.Withdrawer.User)

	r = b.call(t, http.MethodPost, "/withdraw/kyc", map[string]any{"email": "bob@example.com", "country": "GB"}, "x-coinflow-auth-user-id", "u-gb")
	require.Equal(t, http.StatusUnavailableForLegalReasons, r.Status)
	require.Equal(t, http.StatusBadRequest, b.call(t, http.MethodPost, "/withdraw/kyc", map[string]any{"info": map[string]any{"email": "x"}}, "x-coinflow-auth-user-id", "u-x").Status)

	// Destinations for the approved user.
	r = b.call(t, http.MethodPost, "/withdraw/account", map[string]any{
		"alias": "Main", "routingNumber": "011000015", "accountNumber": "000123456789", "type": "checking",
	}, "x-coinflow-auth-user-id", "u-us")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var acc struct {
		Withdrawer withdrawerBody `json:"withdrawer"`
	}
	r.decode(t, &acc)
	require.Len(t, acc.Withdrawer.BankAccounts, 1)
	require.Equal(t, "6789", acc.Withdrawer.BankAccounts[0].Last4)
	token := acc.Withdrawer.BankAccounts[0].Token

	var card string
	b.call(t, http.MethodPost, "/withdraw/debit-card", map[string]any{"cardToken": "tok_4242", "expMonth": "12", "expYear": "29"},
		"x-coinflow-auth-user-id", "u-us").decode(t, &card)
	require.NotEmpty(t, card)
	require.Equal(t, http.StatusUnavailableForLegalReasons,
		b.call(t, http.MethodPost, "/withdraw/iban", map[string]any{"number": "GB33BUKB20201555555555"}, "x-coinflow-auth-user-id", "u-gb").Status)

	b.mustPayout(t, "u-us", token, "same_day", 1_000, key(1))
	b.mustPayout(t, "u-us", card, "card", 1_000, key(2))

	// A failing instant check falls back to document verification.
	failing := map[string]any{"info": map[string]any{
		"email": "c@example.com", "firstName": "C", "surName": "D", "physicalAddress": "2 Main St",
		"city": "Springfield", "state": "IL", "zip": "62701", "country": "US", "dob": "19900101", "ssn": coinflowtest.FailingSSN,
	}}
	require.Equal(t, http.StatusUnavailableForLegalReasons, b.call(t, http.MethodPost, "/withdraw/kyc", failing, "x-coinflow-auth-user-id", "u-fail").Status)

	b.wait(t)
	require.Equal(t, []string{
		"KYC Created", "KYC Success", "KYC Created", "Withdraw Pending", "Withdraw Pending", "KYC Created",
	}, eventTypes(b.hook.envelopes(t)))
}
