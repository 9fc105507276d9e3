package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/flowtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// The identity and account details the PII test sends. None may come out
// of payoutd, in any form a reader would recognise.
const (
	piiSSN        = "219-09-9999"
	piiDOB        = "1987-06-15"
	piiAccount    = "000111222333"
	piiIBAN       = "DE89370400440532013000"
	piiCardToken  = "tok_pii_card_5f3a9c71"
	piiPIXKey     = "pii.person@example.com.br"
	piiEmailUS    = "pii.us.person@example.com"
	piiEmailDE    = "greta.pii@example.de"
	piiSSNDigits  = "219099999"
	piiDOBCompact = "19870615"
)

// neverStored may not be anywhere payoutd writes or says; neverShown adds
// the full emails, which Coinflow's KYC webhooks carry and payoutd keeps
// in the raw event it stored (inbox_events.body, the webhook as received),
// but never shows, logs or keeps anywhere else.
var (
	neverStored = []string{piiSSN, piiSSNDigits, piiDOB, piiDOBCompact, piiAccount, piiIBAN, "370400440532013000", piiCardToken, piiPIXKey}
	neverShown  = append([]string{piiEmailUS, piiEmailDE}, neverStored...)
)

// TestNoPIIComesOut runs a whole onboarding-and-payout flow (a US
// withdrawer with bank account and card, a German one with an IBAN, a
// Brazilian one with a PIX key; payouts, webhooks, a KYC sweep, a
// reconciliation), then reads everything payoutd wrote or said: its logs,
// every API answer, every dashboard page, the CLI's report and reconcile
// output, and every row of its database. None holds the SSN, the date of
// birth, an account number, the card token or the PIX key, and only the raw
// KYC webhooks as stored hold a full email.
func TestNoPIIComesOut(t *testing.T) {
	eachFileDB(t, flowtest.Start, testNoPII)
}

func testNoPII(t *testing.T, store *models.Store, clock *dbtest.Clock, dbURL string) {
	f := flowtest.New(t, store, clock, flowtest.Options{})
	us := flowtest.USRegistration("u-pii-us")
	us["ssn"], us["dob"], us["email"] = piiSSN, piiDOB, piiEmailUS
	f.Register(us, http.StatusCreated)
	bank := flowtest.Str(f.Save("u-pii-us", map[string]any{
		"type": "bank_account", "routing_number": "021000021", "account_number": piiAccount, "account_type": "checking", "name": "Ada Lovelace",
	}), "token")
	card := flowtest.Str(f.Save("u-pii-us", map[string]any{"type": "card", "card_token": piiCardToken, "exp_month": "04", "exp_year": "30"}), "token")

	de := f.Register(map[string]any{"user_id": "u-pii-de", "email": piiEmailDE, "country": "DE"}, http.StatusAccepted)
	f.CompleteAtLink(flowtest.Str(de, "verification_link"), true)
	f.Settle()
	status, _ := f.Call(http.MethodPost, "/api/v1/withdrawers/u-pii-de/destinations", map[string]any{"type": "iban", "iban": piiIBAN, "account_holder": "Greta"})
	require.Equal(t, http.StatusUnprocessableEntity, status, "bic_required first")
	iban := flowtest.Str(f.Save("u-pii-de", map[string]any{"type": "iban", "iban": piiIBAN, "bic": "COBADEFFXXX", "account_holder": "Greta"}), "token")

	br := f.Register(map[string]any{"user_id": "u-pii-br", "email": "joao@example.com.br", "country": "BR"}, http.StatusAccepted)
	f.Emu.SetWebhookURL("") // this one is seen by the KYC sweep
	f.CompleteAtLink(flowtest.Str(br, "verification_link"), true)
	f.Advance(time.Minute)
	_, err := f.Follower.Sweep(t.Context())
	require.NoError(t, err)
	f.Emu.SetWebhookURL(f.Srv.URL + "/webhooks/coinflow")
	pix := flowtest.Str(f.Save("u-pii-br", map[string]any{"type": "pix", "key": piiPIXKey}), "token")

	for _, q := range []map[string]any{
		{"user_id": "u-pii-us", "amount": flowtest.Money(12_000, "USD"), "account": bank},
		{"user_id": "u-pii-de", "amount": flowtest.Money(9_000, "EUR"), "account": iban},
	} {
		status, _ := f.Call(http.MethodPost, "/api/v1/quotes", q)
		require.Equal(t, http.StatusOK, status)
	}
	f.Pay("u-pii-us", 12_000, "USD", "asap", bank)
	f.Pay("u-pii-us", 3_000, "USD", "card", card)
	f.Pay("u-pii-de", 9_000, "EUR", "iban", iban)
	f.Pay("u-pii-br", 40_000, "BRL", "pix", pix)
	status, _ = f.Call(http.MethodPost, "/api/v1/withdrawers/u-pii-us/session-key", nil)
	require.Equal(t, http.StatusOK, status)
	f.Settle()
	f.Advance(48 * time.Hour)
	f.Settle()
	_, err = f.Rec.RunOnce(t.Context(), "test")
	require.NoError(t, err)
	for _, path := range []string{"/api/v1/withdrawers/u-pii-us", "/api/v1/withdrawers/u-pii-de?refresh=true", "/api/v1/withdrawers/u-pii-br",
		"/api/v1/payouts", "/api/v1/findings", "/api/v1/reconcile/runs", "/api/v1/reports/summary?from=2026-03-01&to=2026-04-01"} {
		status, _ := f.Call(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, status, path)
	}

	seen := map[string]string{}
	for i, a := range f.Answers {
		seen[fmt.Sprintf("API answer %d", i)] = a
	}
	for i, e := range append(f.Srv.Logs.AllEntries(), f.Logs.AllEntries()...) {
		line, err := e.String()
		require.NoError(t, err)
		seen[fmt.Sprintf("log line %d", i)] = line
	}
	web := dashboardtest.Login(t, f.Srv.URL, testserver.APIToken)
	pages := []string{"/", "/payouts", "/withdrawers", "/findings", "/runs", "/reports", "/reports/download?report=all",
		"/withdrawers/u-pii-us", "/withdrawers/u-pii-de", "/withdrawers/u-pii-br"}
	ps, _, err := store.PayoutList(t.Context(), models.PayoutFilter{})
	require.NoError(t, err)
	require.Len(t, ps, 4)
	for _, p := range ps {
		pages = append(pages, "/payouts/"+p.ID)
	}
	for _, page := range pages {
		resp := web.Get(t, page)
		require.Equal(t, http.StatusOK, resp.Status, page)
		seen["dashboard "+page] = resp.Body
	}
	env := getenvFrom(map[string]string{
		"PAYOUTD_DATABASE_URL": dbURL, "PAYOUTD_COINFLOW_BASE_URL": f.Emu.URL, "PAYOUTD_COINFLOW_API_KEY": flowtest.APIKey,
	})
	for _, argv := range [][]string{
		{"report", "--from", "2026-03-01", "--to", "2026-04-01", "--format", "csv"},
		{"report", "--from", "2026-03-01", "--to", "2026-04-01", "--format", "json"},
		{"report", "--from", "2026-03-01", "--to", "2026-04-01", "--report", "payouts"},
		{"reconcile", "--once"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), append([]string{"payoutd", argv[0], "--config", emptyConfig(t)}, argv[1:]...), env, &stdout, &stderr)
		require.NoError(t, err, "%v: %s", argv, stderr.String())
		seen["CLI "+strings.Join(argv, " ")] = stdout.String() + stderr.String()
	}
	for table, rows := range dumpTables(t, store) {
		seen["table "+table] = rows
	}

	require.Contains(t, seen["dashboard /withdrawers/u-pii-us"], "2333", "the last four of the account are shown")
	for where, text := range seen {
		needles := neverShown
		if where == "table inbox_events" {
			needles = neverStored
		}
		for _, needle := range needles {
			require.NotContains(t, text, needle, "%s holds PII", where)
		}
	}
}

// dumpTables renders every row of every table payoutd writes.
func dumpTables(t *testing.T, store *models.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"inbox_events", "payouts", "payout_history", "withdrawers", "withdrawer_history", "findings",
		"reconcile_runs", "wallet_snapshots", "job_leases", "alert_outbox", "alert_notices", "destinations"} {
		rows, err := store.DB().Raw("SELECT * FROM " + table).Rows()
		require.NoError(t, err, table)
		cols, err := rows.Columns()
		require.NoError(t, err)
		var b strings.Builder
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			b.WriteString("\n")
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		out[table] = b.String()
	}
	return out
}
