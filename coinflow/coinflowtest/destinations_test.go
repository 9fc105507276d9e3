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

func TestSaveDebitCard(t *testing.T) {
	t.Parallel()
	const pending, noAddr = "u-pending", "u-noaddr"
	card := func(token, month, year string) map[string]any {
		return map[string]any{"cardToken": token, "expMonth": month, "expYear": year}
	}
	withAddr := func(body map[string]any, addr map[string]any) map[string]any {
		body["address"] = addr
		return body
	}
	full := map[string]any{"address1": "1 Elm St", "city": "Austin", "state": "TX", "zip": "73301"}
	for _, tc := range []struct {
		name, user string
		body       any
		status     int
		msg        string // of a 400 or 412
		disb       string // the saved card's disbursementStatus
	}{
		{"saved", "u-1", card("tok_4242", "12", "29"), 200, "", "Immediate"},
		{"eleven digits are a token, not a PAN", "u-1", card("12345678901", "01", "30"), 200, "", "Immediate"},
		{"ineligible", "u-1", card(coinflowtest.IneligibleCardPrefix+"tok", "06", "28"), 200, "", "Ineligible"},
		{"no cardToken", "u-1", card("", "12", "29"), 400, "cardToken, expMonth and expYear are required", ""},
		{"no expYear", "u-1", map[string]any{"cardToken": "tok", "expMonth": "12"}, 400, "cardToken, expMonth and expYear are required", ""},
		{"raw PAN", "u-1", card("4242424242424242", "12", "29"), 400, "cardToken must be a token from Coinflow's card tokenization", ""},
		{"raw 12-digit PAN", "u-1", card("123456789012", "12", "29"), 400, "cardToken must be a token from Coinflow's card tokenization", ""},
		{"raw 19-digit PAN", "u-1", card("1234567890123456789", "12", "29"), 400, "cardToken must be a token from Coinflow's card tokenization", ""},
		{"month 13", "u-1", card("tok", "13", "29"), 400, "expMonth must be 01 to 12", ""},
		{"month 00", "u-1", card("tok", "00", "29"), 400, "expMonth must be 01 to 12", ""},
		{"month one digit", "u-1", card("tok", "1", "29"), 400, "expMonth must be 01 to 12", ""},
		{"year four digits", "u-1", card("tok", "12", "2029"), 400, "expYear must be 2 digits", ""},
		{"year not digits", "u-1", card("tok", "12", "2x"), 400, "expYear must be 2 digits", ""},
		{"no address on file", noAddr, card("tok", "12", "29"), 412, "User Address Info Required - Please provide address info in body.address parameters", ""},
		{"address in the body", noAddr, withAddr(card("tok", "12", "29"), full), 200, "", "Immediate"},
		{"partial address", noAddr, withAddr(card("tok", "12", "29"), map[string]any{"address1": "1 Elm St", "state": "TX"}), 400, "address.city, address.zip required", ""},
		{"pending withdrawer", pending, card("tok", "12", "29"), 451, "", ""},
		{"unknown withdrawer", "u-x", card("tok", "12", "29"), 404, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{noHook: true})
			b.addFourKinds(t, "u-1")
			_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: noAddr, NoAddress: true})
			require.NoError(t, err)
			_, err = b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: pending, Verification: "pending"})
			require.NoError(t, err)
			before := b.getWithdrawer(t, tc.user).rows()
			hdr := []string{"x-coinflow-auth-user-id", tc.user}
			var r response
			if tc.status == 200 || tc.status == 412 {
				r = b.specCall(t, tc.status, http.MethodPost, "/withdraw/debit-card", tc.body, hdr...)
			} else {
				r = b.call(t, http.MethodPost, "/withdraw/debit-card", tc.body, hdr...)
				require.Equal(t, tc.status, r.Status, "%s", r.Body)
			}
			if tc.msg != "" {
				require.Equal(t, tc.msg, r.msg(t))
			}
			if tc.status != 200 {
				if tc.status != 404 {
					require.Len(t, b.getWithdrawer(t, tc.user).rows(), len(before), "nothing saved")
				}
				if tc.user == noAddr {
					w, _ := b.srv.Withdrawer(noAddr)
					require.False(t, w.HasAddress, "a refused request leaves no address")
				}
				return
			}
			var token string
			r.decode(t, &token)
			a := b.getWithdrawer(t, tc.user)
			row, ok := a.rows()[token]
			require.True(t, ok, "the answered token is listed")
			require.Equal(t, tc.disb, row.DisbursementStatus)
			require.Equal(t, "USD", row.Currency)
			q := b.quote(t, tc.user, token, "card", 1_000, "")
			if tc.disb == "Ineligible" {
				require.Equal(t, http.StatusBadRequest, q.Status)
				require.Equal(t, "card is not eligible for disbursements", q.msg(t))
			} else {
				require.Equal(t, http.StatusOK, q.Status, "%s", q.Body)
				require.True(t, a.Withdrawer.P2C)
			}
			w, _ := b.srv.Withdrawer(tc.user)
			require.True(t, w.HasAddress, "the address stays on file")
			// With the address on file, the next card needs none.
			b.specCall(t, http.StatusOK, http.MethodPost, "/withdraw/debit-card", card("tok_next", "01", "31"), hdr...)
		})
	}
}

func TestIneligibleSeededCard(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1", CardToken: coinflowtest.IneligibleCardPrefix + "c1"})
	require.NoError(t, err)
	a := b.getWithdrawer(t, "u-1")
	require.False(t, a.Withdrawer.P2C)
	require.Equal(t, "Ineligible", a.rows()[coinflowtest.IneligibleCardPrefix+"c1"].DisbursementStatus)
	r := b.payoutIn(t, "u-1", coinflowtest.IneligibleCardPrefix+"c1", "card", 100, "", key(1))
	require.Equal(t, http.StatusBadRequest, r.Status)
}

func TestSaveIBAN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		msg    string // of a 400
		// the saved row
		last4, sortCode, bic, alias string
	}{
		{"SEPA IBAN", map[string]any{"number": "DE89370400440532013000", "bic": "COBADEFFXXX"}, 200, "", "3000", "", "COBADEFFXXX", "IBAN ...3000"},
		{"written with spaces and lower case", map[string]any{"number": "de89 3704 0044 0532 0130 00", "bic": "cobadeff"}, 200, "", "3000", "", "COBADEFF", "IBAN ...3000"},
		{"GB IBAN, alias and holder kept", map[string]any{"number": "GB29NWBK60161331926819", "bic": "NWBKGB2L", "alias": "Savings", "accountHolder": "Bob Jones"}, 200, "", "6819", "", "NWBKGB2L", "Savings"},
		{"French IBAN with a letter", map[string]any{"number": "FR1420041010050500013M02606", "bic": "PSSTFRPPXXX"}, 200, "", "2606", "", "PSSTFRPPXXX", "IBAN ...2606"},
		{"UK account and sort code", map[string]any{"number": "31926819", "sortCode": "60-16-13"}, 200, "", "6819", "601613", "", "IBAN ...6819"},
		{"IBAN without BIC", map[string]any{"number": "NL91ABNA0417164300"}, 426, "", "", "", "", ""},
		{"bad checksum", map[string]any{"number": "DE89370400440532013001", "bic": "COBADEFF"}, 400, "invalid IBAN", "", "", "", ""},
		{"wrong length for DE", map[string]any{"number": "DE8937040044053201300", "bic": "COBADEFF"}, 400, "invalid IBAN", "", "", "", ""},
		{"unknown country", map[string]any{"number": "ZZ89370400440532013000", "bic": "COBADEFF"}, 400, "invalid IBAN", "", "", "", ""},
		{"not an account number", map[string]any{"number": "hello", "bic": "COBADEFF"}, 400, "invalid IBAN", "", "", "", ""},
		{"no number", map[string]any{"bic": "COBADEFF"}, 400, "number is required", "", "", "", ""},
		{"nine digits", map[string]any{"number": "319268191", "sortCode": "601613"}, 400, "number must be an IBAN or a UK 8-digit account number", "", "", "", ""},
		{"UK account without sort code", map[string]any{"number": "31926819"}, 400, "sortCode is required with a UK account number", "", "", "", ""},
		{"five-digit sort code", map[string]any{"number": "31926819", "sortCode": "60161"}, 400, "sortCode must be 6 digits", "", "", "", ""},
		{"seven-character BIC", map[string]any{"number": "DE89370400440532013000", "bic": "COBADEF"}, 400, "invalid BIC", "", "", "", ""},
		{"BIC of no country", map[string]any{"number": "DE89370400440532013000", "bic": "COBAZZFF"}, 400, "invalid BIC", "", "", "", ""},
		{"BIC with digits for the bank", map[string]any{"number": "DE89370400440532013000", "bic": "C0BADEFF"}, 400, "invalid BIC", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{noHook: true})
			b.addUser(t, "u-1")
			hdr := []string{"x-coinflow-auth-user-id", "u-1"}
			if tc.status == 400 {
				r := b.call(t, http.MethodPost, "/withdraw/iban", tc.body, hdr...)
				require.Equal(t, tc.status, r.Status, "%s", r.Body)
				require.Equal(t, tc.msg, r.msg(t))
				require.Empty(t, b.getWithdrawer(t, "u-1").Withdrawer.Ibans)
				return
			}
			r := b.specCall(t, tc.status, http.MethodPost, "/withdraw/iban", tc.body, hdr...)
			var s string
			r.decode(t, &s)
			if tc.status == 426 {
				require.Equal(t, "BIC required", s, "the 426 body is a JSON string")
				require.Empty(t, b.getWithdrawer(t, "u-1").Withdrawer.Ibans)
				return
			}
			row, ok := b.getWithdrawer(t, "u-1").rows()[s]
			require.True(t, ok, "the answered token is listed")
			require.Equal(t, tc.last4, row.Last4)
			require.Equal(t, tc.sortCode, row.SortCode)
			require.Equal(t, tc.bic, row.BIC)
			require.Equal(t, tc.alias, row.Alias)
			require.Equal(t, http.StatusOK, b.quote(t, "u-1", s, "iban", 1_000, "").Status)
		})
	}
}

func TestSavePIX(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	hdr := []string{"x-coinflow-auth-user-id", "u-1"}
	for _, body := range []any{map[string]any{}, map[string]any{"pixKey": ""}, map[string]any{"pixKey": "   "}} {
		r := b.call(t, http.MethodPost, "/withdraw/pix", body, hdr...)
		require.Equal(t, http.StatusBadRequest, r.Status, "%v", body)
		require.Equal(t, "pixKey is required", r.msg(t))
	}
	var token string
	b.specCall(t, http.StatusOK, http.MethodPost, "/withdraw/pix", map[string]any{"pixKey": "bob@example.com"}, hdr...).decode(t, &token)
	row, ok := b.getWithdrawer(t, "u-1").rows()[token]
	require.True(t, ok)
	require.Equal(t, "bob@example.com", row.Key)
	require.Equal(t, http.StatusOK, b.quote(t, "u-1", token, "pix", 1_000, "").Status)
	require.Equal(t, http.StatusBadRequest, b.quote(t, "u-1", token, "asap", 1_000, "").Status)
}
