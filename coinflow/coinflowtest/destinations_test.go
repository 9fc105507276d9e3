package coinflowtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// accountsBody is IWithdrawerWithAccounts' destination lists.
type accountsBody struct {
	Withdrawer struct {
		BankAccounts []destRow `json:"bankAccounts"`
		Cards        []destRow `json:"cards"`
		Ibans        []destRow `json:"ibans"`
		Pixes        []destRow `json:"pixes"`
		P2C          bool      `json:"p2cAvailable"`
	} `json:"withdrawer"`
}

type destRow struct {
	Token              string `json:"token"`
	Last4              string `json:"last4"`
	Alias              string `json:"alias"`
	Key                string `json:"key"`
	IsDeleted          bool   `json:"isDeleted"`
	Currency           string `json:"currency"`
	DisbursementStatus string `json:"disbursementStatus"`
	SortCode           string `json:"sortCode"`
	BIC                string `json:"bic"`
}

// rows returns every destination row of a GET /withdraw-shaped body by
// token.
func (a accountsBody) rows() map[string]destRow {
	out := map[string]destRow{}
	for _, l := range [][]destRow{a.Withdrawer.BankAccounts, a.Withdrawer.Cards, a.Withdrawer.Ibans, a.Withdrawer.Pixes} {
		for _, r := range l {
			out[r.Token] = r
		}
	}
	return out
}

// addFourKinds registers an approved withdrawer with one destination of
// each kind: bnk_<u>, crd_<u>, iban_<u>, pix_<u>.
func (b *bundle) addFourKinds(t *testing.T, user string) {
	t.Helper()
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{
		UserID: user, BankToken: "bnk_" + user, CardToken: "crd_" + user, IBANToken: "iban_" + user, PIXToken: "pix_" + user,
	})
	require.NoError(t, err)
}

func (b *bundle) getWithdrawer(t *testing.T, user string) accountsBody {
	t.Helper()
	var a accountsBody
	b.call(t, http.MethodGet, "/withdraw", nil, "x-coinflow-auth-user-id", user).decode(t, &a)
	return a
}

func TestDeleteDestination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path, user string
		status           int
		deleted          string // the token then shown with isDeleted true
	}{
		{"bank account", "/withdraw/account/bnk_u-1", "u-1", 200, "bnk_u-1"},
		{"card", "/withdraw/card/crd_u-1", "u-1", 200, "crd_u-1"},
		{"iban", "/withdraw/iban/iban_u-1", "u-1", 200, "iban_u-1"},
		{"pix", "/withdraw/pix/pix_u-1", "u-1", 200, "pix_u-1"},
		{"card token on the account route", "/withdraw/account/crd_u-1", "u-1", 404, ""},
		{"bank token on the iban route", "/withdraw/iban/bnk_u-1", "u-1", 404, ""},
		{"another user's account", "/withdraw/account/bnk_u-2", "u-1", 404, ""},
		{"unknown token", "/withdraw/pix/pix_nope", "u-1", 404, ""},
		{"unknown user", "/withdraw/account/bnk_u-1", "u-x", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{noHook: true})
			b.addFourKinds(t, "u-1")
			b.addFourKinds(t, "u-2")
			hdr := []string{"x-coinflow-auth-user-id", tc.user}
			if tc.status != http.StatusOK {
				r := b.call(t, http.MethodDelete, tc.path, nil, hdr...)
				require.Equal(t, tc.status, r.Status, "%s", r.Body)
				require.NotEmpty(t, r.msg(t))
				for tok, row := range b.getWithdrawer(t, "u-1").rows() {
					require.False(t, row.IsDeleted, tok)
				}
				return
			}
			var a accountsBody
			b.specCall(t, http.StatusOK, http.MethodDelete, tc.path, nil, hdr...).decode(t, &a)
			for tok, row := range a.rows() {
				require.Equal(t, tok == tc.deleted, row.IsDeleted, "%s in the answer", tok)
			}
			require.Len(t, a.rows(), 4, "a deleted destination stays listed")
			got := b.getWithdrawer(t, "u-1").rows()
			require.True(t, got[tc.deleted].IsDeleted, "GET /withdraw shows it deleted")

			// A deleted destination is neither quoted nor paid, like an
			// unknown one; the other user's same-kind token is untouched.
			speed := map[string]string{"bnk_u-1": "asap", "crd_u-1": "card", "iban_u-1": "iban", "pix_u-1": "pix"}[tc.deleted]
			q := b.quote(t, "u-1", tc.deleted, speed, 1_000, "")
			require.Equal(t, http.StatusBadRequest, q.Status, "%s", q.Body)
			require.Equal(t, "account is not a saved destination of this withdrawer", q.msg(t))
			p := b.payoutIn(t, "u-1", tc.deleted, speed, 1_000, "", key(1))
			require.Equal(t, http.StatusBadRequest, p.Status, "%s", p.Body)
			require.Equal(t, "account is not a saved destination of this withdrawer", p.msg(t))
			require.Zero(t, b.srv.PayoutsCreated())

			w, _ := b.srv.Withdrawer("u-1")
			require.NotContains(t, w.Accounts, tc.deleted, "the snapshot lists live destinations")
			// Deleting again answers 200.
			b.specCall(t, http.StatusOK, http.MethodDelete, tc.path, nil, hdr...)
		})
	}
}

func TestOpsOfDeleteRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addFourKinds(t, "u-1")
	for path, op := range map[string]string{
		"/withdraw/account/bnk_u-1": coinflowtest.OpDeleteBankAccount,
		"/withdraw/card/crd_u-1":    coinflowtest.OpDeleteCard,
		"/withdraw/iban/iban_u-1":   coinflowtest.OpDeleteIBAN,
		"/withdraw/pix/pix_u-1":     coinflowtest.OpDeletePIX,
	} {
		b.call(t, http.MethodDelete, path, nil, "x-coinflow-auth-user-id", "u-1")
		require.Equal(t, 1, b.srv.Calls(op), path)
	}
	require.Equal(t, http.StatusUnauthorized, b.call(t, http.MethodDelete, "/withdraw/pix/pix_u-1", nil).Status, "the user header is required")
}

// quote asks for a delegated quote; currency "" leaves amount.currency
// out.
func (b *bundle) quote(t *testing.T, user, account, speed string, cents int64, currency string) response {
	t.Helper()
	return b.call(t, http.MethodPost, "/merchant/withdraws/payout/delegated/quote", map[string]any{
		"speed": speed, "account": account, "userId": user, "amount": amount(cents, currency),
	})
}

// payoutIn requests a delegated payout; currency "" leaves
// amount.currency out.
func (b *bundle) payoutIn(t *testing.T, user, account, speed string, cents int64, currency, key string) response {
	t.Helper()
	return b.call(t, http.MethodPost, "/merchant/withdraws/payout/delegated", map[string]any{
		"idempotencyKey": key, "speed": speed, "account": account, "userId": user, "amount": amount(cents, currency),
	})
}

func amount(cents int64, currency string) map[string]any {
	a := map[string]any{"cents": cents}
	if currency != "" {
		a["currency"] = currency
	}
	return a
}

func TestDestinationTakesItsSpeeds(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addFourKinds(t, "u-1")
	n := 0
	for _, tc := range []struct {
		account string
		ok      []string
	}{
		{"bnk_u-1", []string{"asap", "same_day", "standard"}},
		{"crd_u-1", []string{"card"}},
		{"iban_u-1", []string{"iban"}},
		{"pix_u-1", []string{"pix"}},
	} {
		for _, speed := range []string{"asap", "same_day", "standard", "card", "iban", "pix", "eft", "venmo", "paypal", "wire", "interac"} {
			want := http.StatusBadRequest
			for _, s := range tc.ok {
				if s == speed {
					want = http.StatusOK
				}
			}
			q := b.quote(t, "u-1", tc.account, speed, 1_000, "")
			require.Equal(t, want, q.Status, "quote %s at %s: %s", tc.account, speed, q.Body)
			n++
			p := b.payoutIn(t, "u-1", tc.account, speed, 1_000, "", key(n))
			require.Equal(t, want, p.Status, "pay %s at %s: %s", tc.account, speed, p.Body)
			if want != http.StatusOK {
				require.Contains(t, p.msg(t), "cannot be paid at speed "+speed)
				continue
			}
			var pr payoutResp
			p.decode(t, &pr)
			w, ok := b.srv.Withdraw(pr.Signature)
			require.True(t, ok)
			require.Equal(t, tc.account, w.Account)
		}
	}
	require.Equal(t, 6, b.srv.PayoutsCreated())
}
