package webhook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/mask"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// counterparty is the person's name an RFI carries: PII that must stay in
// the raw body.
const counterparty = "Ottilie Quarrington-Vasquez"

func rfiBody(eventType, created, withdrawID, rfiID string) []byte {
	return fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":%q,"data":{"rfiId":%q,`+
		`"merchantId":"acme-payouts","mergeTransactionId":"mt-1","counterpartyName":%q,"amount":{"cents":2500,"currency":"EUR"},`+
		`"paymentType":"SEPA","paymentDate":"2025-06-02","withdrawId":%q,"withdrawerId":"u-rail"}}`,
		eventType, created, rfiID, counterparty, withdrawID)
}

func ibanFailureBody(created, withdrawID string) []byte {
	return fmt.Appendf(nil, `{"eventType":"Iban Failure","category":"Withdraw","created":%q,"data":{"withdrawId":%q,"reason":"account closed"}}`,
		created, withdrawID)
}

func withdrawAt(eventType, created, signature string) []byte {
	return fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":%q,`+
		`"data":{"wallet":"w","blockchain":"solana","signature":%q,"total":{"cents":2500,"currency":"USD"},"currency":"USD",`+
		`"merchantId":"acme-payouts","userId":"u-rail"}}`, eventType, created, signature)
}

// deliver posts each body signed and applies what was stored.
func deliver(t *testing.T, s *testserver.Server, bodies ...[]byte) {
	t.Helper()
	for _, b := range bodies {
		code, _ := s.PostSigned(t, b)
		require.Equal(t, http.StatusOK, code)
	}
	s.Drain(t)
}

func inboxIDOf(t *testing.T, s *testserver.Server, body []byte) int64 {
	t.Helper()
	for _, r := range inboxRows(t, s) {
		if string(r.Body) == string(body) {
			return r.ID
		}
	}
	t.Fatalf("body not stored")
	return 0
}

// requireNoCounterparty: the RFI's counterparty name is in no log entry,
// no finding, and no stored body as the API and dashboard show it.
func requireNoCounterparty(t *testing.T, s *testserver.Server) {
	t.Helper()
	for _, e := range s.Logs.AllEntries() {
		text := e.Message + fmt.Sprint(e.Data)
		require.NotContains(t, text, counterparty, "a log entry names the counterparty")
	}
	for _, f := range findingRows(t, s) {
		b, err := json.Marshal(f)
		require.NoError(t, err)
		require.NotContains(t, string(b), counterparty, "a finding names the counterparty")
	}
	for _, r := range inboxRows(t, s) {
		shown, err := mask.Body(r.Body)
		require.NoError(t, err)
		require.NotContains(t, shown, counterparty, "a shown body names the counterparty")
		require.NotContains(t, models.Deref(r.LastError), counterparty)
	}
}

// TestRailEvents: Iban Failure and Iban RFI Created/Submitted, which name a
// withdrawal by withdrawId (its transaction or its transfer id), are
// evidence about the payout they name, and are ignored with a note when
// they name none.
func TestRailEvents(t *testing.T) {
	const (
		t1 = "2025-06-02T14:00:00Z"
		t2 = "2025-06-02T15:00:00Z"
		t3 = "2025-06-02T16:00:00Z"
		t4 = "2025-06-02T17:00:00Z"
	)
	type step struct {
		body       []byte
		status     models.PayoutStatus
		detail     string
		historyRow bool // the event wrote a history row marked with its inbox id
	}
	cases := []struct {
		name       string
		transferID string // set on the payout after it is discovered
		steps      []step
	}{
		{name: "RFI created holds, submitted still holds, success completes", steps: []step{
			{rfiBody("Iban RFI Created", t2, "sig-rail", "rfi-1"), models.StatusInReview, models.DetailRFIRequested, true},
			{rfiBody("Iban RFI Submitted", t3, "sig-rail", "rfi-1"), models.StatusInReview, models.DetailRFISubmitted, true},
			{withdrawAt("Withdraw Success", t4, "sig-rail"), models.StatusCompleted, "", true},
		}},
		{name: "Iban Failure by transfer id fails the payout", transferID: "tr-rail", steps: []step{
			{ibanFailureBody(t2, "tr-rail"), models.StatusFailed, models.DetailIBANFailure, true},
		}},
		{name: "Iban Failure after success is a terminal conflict", steps: []step{
			{withdrawAt("Withdraw Success", t2, "sig-rail"), models.StatusCompleted, "", true},
			{ibanFailureBody(t3, "sig-rail"), models.StatusFailed, models.DetailIBANFailure, true},
		}},
		{name: "a withdrawId payoutd does not know is ignored", steps: []step{
			{rfiBody("Iban RFI Created", t2, "sig-elsewhere", "rfi-9"), models.StatusPending, "", false},
			{ibanFailureBody(t3, "tr-elsewhere"), models.StatusPending, "", false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachServer(t, nil, func(t *testing.T, s *testserver.Server) {
				deliver(t, s, withdrawAt("Withdraw Pending", t1, "sig-rail"))
				if tc.transferID != "" {
					require.NoError(t, s.Store.DB().Exec("UPDATE payouts SET coinflow_transfer_id = ?", tc.transferID).Error)
				}
				for _, st := range tc.steps {
					deliver(t, s, st.body)
					// A second delivery of the same event, re-signed later, is the same event.
					s.Clock.Advance(time.Second)
					deliver(t, s, st.body)
					p, hist := onlyPayout(t, s)
					require.Equal(t, st.status, p.Status)
					require.Equal(t, st.detail, models.Deref(p.StatusDetail))
					id := inboxIDOf(t, s, st.body)
					var rows []models.PayoutHistory
					for _, h := range hist {
						if h.InboxEventID != nil && *h.InboxEventID == id {
							rows = append(rows, h)
						}
					}
					if st.historyRow {
						require.Len(t, rows, 1, "one history row for the event, however often delivered")
						require.Equal(t, models.SourceWebhook, rows[0].Source)
						require.Equal(t, string(st.status), rows[0].ToStatus)
					} else {
						require.Empty(t, rows)
						ev, err := s.Store.InboxGet(t.Context(), id)
						require.NoError(t, err)
						require.Equal(t, models.InboxIgnored, ev.Status)
						require.Equal(t, inbox.NoteUnknownWithdraw, models.Deref(ev.LastError))
					}
				}
				counts := inboxCounts(t, s)
				require.Equal(t, int64(1+len(tc.steps)), counts[models.InboxApplied]+counts[models.InboxIgnored], "each event stored once")
				require.Zero(t, counts[models.InboxUnprocessable]+counts[models.InboxParked])
				findings := findingCounts(t, s)
				require.Zero(t, findings[models.KindWebhookUnprocessable])
				if tc.name == "Iban Failure after success is a terminal conflict" {
					require.Equal(t, int64(1), findings[models.KindStatusMismatch])
				}
				for _, st := range tc.steps {
					// Replaying changes nothing, applied or ignored.
					id := inboxIDOf(t, s, st.body)
					rec, err := s.Pipeline.Applier.Replay(t.Context(), id, "test")
					require.NoError(t, err)
					require.Equal(t, inbox.ReplayUnchanged, models.Deref(rec.Outcome))
					if !st.historyRow {
						ev, err := s.Store.InboxGet(t.Context(), id)
						require.NoError(t, err)
						require.Equal(t, inbox.NoteUnknownWithdraw, models.Deref(ev.LastError), "the note survives a replay")
					}
				}
				requireNoCounterparty(t, s)
			})
		})
	}
}

// TestRailEventWithoutWithdrawIDIsIgnored: Coinflow's schema makes
// withdrawId optional; an RFI without one names no payout (a pay-in, say)
// and is stored and ignored, never unprocessable, so it pages no one.
func TestRailEventWithoutWithdrawIDIsIgnored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		s := testserver.Start(t, store, testserver.Options{})
		body := rfiBody("Iban RFI Created", "2025-06-02T19:40:02.530Z", "", "rfi-payin")
		deliver(t, s, body)
		var ev models.InboxEvent
		require.NoError(t, store.DB().Where("id = ?", inboxIDOf(t, s, body)).First(&ev).Error)
		require.Equal(t, models.InboxIgnored, ev.Status)
		var n int64
		require.NoError(t, store.DB().Model(&models.Finding{}).Where("kind = ?", models.KindWebhookUnprocessable).Count(&n).Error)
		require.Zero(t, n)
	})
}
