package coinflow_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/rail"
)

// everyKind is a GET /withdraw answer with each kind of destination, the
// members payoutd must not keep included (account numbers, the PIX key).
const everyKind = `{"withdrawer":{"_id":"w-7","wallet":"acmeʬu-7","blockchain":"user","wallets":[],"email":"eve@example.com",
	"availability":{"status":"Functional","reason":"","editor":""},"currency":"EUR","originalCurrency":"EUR","merchant":"m-1",
	"verification":{"reference":"r","status":"approved","vendor":"sumsub"},"riskScoreOverride":false,"country":"DE",
	"bankAccounts":[
	  {"last4":"6789","accountHash":"h1","alias":"Checking ...6789","token":"bnk_1","reference":"r1","accountNumber":"000123456789","accountNumberOnlyHash":"h"},
	  {"last4":"1111","accountHash":"h2","alias":"Old","token":"bnk_2","reference":"r2","isDeleted":true}],
	"cards":[
	  {"last4":"4242","token":"crd_1","type":"VISA","disbursementStatus":"Immediate","createdAt":"2025-05-02T09:00:00.000Z","nameOnCard":"EVE ADAMS","expMonth":"12","expYear":"29"},
	  {"last4":"0005","token":"crd_2","type":"AMEX","disbursementStatus":"Ineligible","createdAt":"2025-05-02T09:00:00.000Z"},
	  {"last4":"4444","token":"crd_3","type":"MSTR","disbursementStatus":"Business Day","currency":"CAD","createdAt":"2025-05-02T09:00:00.000Z","isDeleted":true}],
	"ibans":[
	  {"last4":"3000","accountHash":"h3","alias":"Girokonto","token":"iban_1","reference":"r3","sortCode":"","bic":"COBADEFFXXX"},
	  {"last4":"5678","accountHash":"h4","alias":"UK","token":"iban_2","reference":"r4","sortCode":"401276"}],
	"pixes":[{"key":"eve.pix@example.com.br","accountHash":"h5","token":"pix_1"}],
	"efts":[{"accountHash":"h6","alias":"Chequing","token":"eft_1","reference":"r6","mask":"****9876","accountNumber":"5559876","transit_number":"00012","institution":"RBC"}],
	"p2cAvailable":true,"applePayAvailable":false,"bankCurrencyOptions":["EUR"],"freeWithdrawSpeeds":[]}}`

// notKept are the values of everyKind payoutd must not hold.
var notKept = []string{"000123456789", "eve.pix@example.com.br", "eve.pix", "5559876", "EVE ADAMS"}

func TestGetWithdrawerDecodesEveryDestination(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 200, body: everyKind})
	w, err := c.GetWithdrawer(t.Context(), "u-7")
	require.NoError(t, err)
	got := srv.only(t)
	requireSent(t, got, "GET", "/withdraw", "u-7", "")

	require.Equal(t, "EUR", w.Currency)
	require.Equal(t, "EUR", w.OriginalCurrency)
	require.Equal(t, []coinflow.Destination{
		{Last4: "6789", Token: "bnk_1", Alias: "Checking ...6789"},
		{Last4: "1111", Token: "bnk_2", Alias: "Old", IsDeleted: true},
	}, w.BankAccounts)
	require.Equal(t, []coinflow.Destination{
		{Last4: "4242", Token: "crd_1", Type: coinflow.CardVisa, DisbursementStatus: coinflow.DisbursementImmediate},
		{Last4: "0005", Token: "crd_2", Type: coinflow.CardAmex, DisbursementStatus: coinflow.DisbursementIneligible},
		{Last4: "4444", Token: "crd_3", Type: coinflow.CardMastercard, DisbursementStatus: coinflow.DisbursementBusinessDay, Currency: "CAD", IsDeleted: true},
	}, w.Cards)
	require.Len(t, w.Ibans, 2)
	require.Equal(t, "3000", w.Ibans[0].Last4)
	require.Equal(t, "iban_2", w.Ibans[1].Token)
	require.Len(t, w.Pixes, 1)
	require.Equal(t, "pix_1", w.Pixes[0].Token)
	require.Empty(t, w.Pixes[0].Last4, "the schema has no last4 for a PIX key")
	require.Equal(t, ".br", w.Pixes[0].PixKeyLast4()[1:])
	require.Equal(t, "m.br", w.Pixes[0].PixKeyLast4())
	require.Equal(t, "9876", w.Efts[0].Last4, "an EFT account's last 4 come from its mask")
	require.Empty(t, w.Efts[0].PixKeyLast4())

	// The caller's way through the lists (initiate) still works.
	var tokens []string
	for _, list := range [][]coinflow.Destination{w.BankAccounts, w.Cards, w.Ibans, w.Pixes, w.Efts} {
		for _, d := range list {
			if !d.IsDeleted {
				tokens = append(tokens, d.Token)
			}
		}
	}
	require.Equal(t, []string{"bnk_1", "crd_1", "crd_2", "iban_1", "iban_2", "pix_1", "eft_1"}, tokens)

	for _, verb := range []string{"%+v", "%#v"} {
		out := fmt.Sprintf(verb, *w)
		for _, s := range notKept {
			require.NotContains(t, out, s, "%s holds %s", verb, s)
		}
	}
	out, err := json.Marshal(w)
	require.NoError(t, err)
	for _, s := range notKept {
		require.NotContains(t, string(out), s)
	}
}

func TestDestinations(t *testing.T) {
	t.Parallel()
	var body struct {
		Withdrawer coinflow.WithdrawerWithAccounts `json:"withdrawer"`
	}
	require.NoError(t, json.Unmarshal([]byte(everyKind), &body))
	bank := []string{rail.ASAP, rail.SameDay, rail.Standard}
	want := []coinflow.SavedDestination{
		{Kind: rail.BankAccount, Token: "bnk_1", Last4: "6789", Alias: "Checking ...6789", Currency: "USD", Speeds: bank},
		{Kind: rail.BankAccount, Token: "bnk_2", Last4: "1111", Alias: "Old", Currency: "USD", Deleted: true, Speeds: bank},
		{Kind: rail.DebitCard, Token: "crd_1", Last4: "4242", Currency: "USD", Speeds: []string{rail.Card}},
		{Kind: rail.DebitCard, Token: "crd_2", Last4: "0005", Currency: "USD"},
		{Kind: rail.DebitCard, Token: "crd_3", Last4: "4444", Currency: "CAD", Deleted: true, Speeds: []string{rail.Card}},
		{Kind: rail.IBANAccount, Token: "iban_1", Last4: "3000", Alias: "Girokonto", Currency: "EUR", Speeds: []string{rail.IBAN}},
		{Kind: rail.IBANAccount, Token: "iban_2", Last4: "5678", Alias: "UK", Currency: "GBP", Speeds: []string{rail.IBAN}},
		{Kind: rail.PIXKey, Token: "pix_1", Last4: "m.br", Currency: "BRL", Speeds: []string{rail.PIX}},
		{Kind: rail.EFTAccount, Token: "eft_1", Last4: "9876", Alias: "Chequing", Currency: "CAD", Speeds: []string{rail.EFT}},
	}
	got := body.Withdrawer.Destinations()
	require.Equal(t, want, got)
	for _, d := range got {
		if len(d.Speeds) > 0 {
			require.True(t, rail.PaysIn(d.Kind, d.Currency) || d.Kind == rail.DebitCard, "%s pays %s", d.Kind, d.Currency)
		}
		for _, s := range d.Speeds {
			require.True(t, rail.Valid(s), s)
		}
	}
	got[0].Speeds[0] = "changed"
	require.Equal(t, rail.ASAP, body.Withdrawer.Destinations()[0].Speeds[0], "each call has its own speeds")
}

// TestIBANCurrency: a sort code means a UK account (GBP); otherwise the
// withdrawer's currency when an IBAN pays it, else EUR.
func TestIBANCurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, original, currency, sortCode, want string
	}{
		{"sort code", "EUR", "EUR", "401276", "GBP"},
		{"UK withdrawer with an IBAN", "GBP", "GBP", "", "GBP"},
		{"euro withdrawer", "", "EUR", "", "EUR"},
		{"original currency first", "GBP", "EUR", "", "GBP"},
		{"a currency no IBAN pays", "USD", "USD", "", "EUR"},
		{"nothing said", "", "", "", "EUR"},
		{"blank sort code", "", "", "  ", "EUR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := fmt.Sprintf(`{"currency":%q,"originalCurrency":%q,"ibans":[{"last4":"0000","token":"i","sortCode":%q}]}`, tc.currency, tc.original, tc.sortCode)
			var w coinflow.WithdrawerWithAccounts
			require.NoError(t, json.Unmarshal([]byte(raw), &w))
			ds := w.Destinations()
			require.Len(t, ds, 1)
			require.Equal(t, tc.want, ds[0].Currency)
		})
	}
}

func TestPixKeyLast4(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"+5511987654321":                       "4321",
		"123.456.789-09":                       "9-09",
		"abc":                                  "abc",
		"":                                     "",
		"josé@exemplo.com.br":                  "m.br",
		"chave-aleatória-ção":                  "-ção",
		"7d9f2a1e-3b4c-4d5e-8f6a-0b1c2d3e4f5a": "4f5a",
	} {
		var d coinflow.Destination
		require.NoError(t, json.Unmarshal([]byte(`{"token":"pix_1","key":`+jsonString(key)+`}`), &d))
		require.Equal(t, want, d.PixKeyLast4(), key)
		if len(key) > 4 {
			require.NotContains(t, fmt.Sprintf("%#v", d), key)
		}
	}
	var d coinflow.Destination
	require.Error(t, json.Unmarshal([]byte(`{"token":1}`), &d))
}
