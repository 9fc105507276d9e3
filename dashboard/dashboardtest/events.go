package dashboardtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// Secrets and PII the seeded event bodies carry, which no page may show.
const (
	EventEmail         = "jane.doe@example.com"
	EventEmailMasked   = "j***@example.com"
	EventSSN           = "078-05-1120"
	EventAccountNumber = "000123456789"
	EventCardToken     = "tok_live_4f9a2b"
	// EventError is a parked event's last error, with markup to escape.
	EventError = `decode: <script>alert("x")</script> & co`
)

// Events is what SeedEvents stored.
type Events struct {
	All []models.InboxEvent // newest first, as the event log lists them
	// Payout is the applied Withdraw Success of the Search payout, linked
	// from its history; Withdrawer the applied KYC Success of SearchUser,
	// linked from the withdrawer's history.
	Payout, Withdrawer *models.InboxEvent
	Parked             *models.InboxEvent // parked after failed applies, with EventError
	// ParkedPayout is the pending payout the parked Withdraw Failure names:
	// applied once replayed, it fails the payout.
	ParkedPayout *models.Payout
	NotJSON      *models.InboxEvent // unprocessable: its body is not JSON
	Pruned       *models.InboxEvent // applied, body pruned by retention
	Ignored      *models.InboxEvent // a type payoutd does not track
}

// EventsSeeded is how many events SeedEvents stores: more than a page.
const EventsSeeded = 64

// SeedEvents stores EventsSeeded webhooks over the hours before fx.End,
// of several types, states and authentication methods, some naming the
// seeded payouts and users, and links the webhook history rows of
// fx.Search and of SearchUser's approval to the events behind them. The
// clock ends at fx.End.
func SeedEvents(t testing.TB, store *models.Store, clock *dbtest.Clock, fx *Fixture) *Events {
	t.Helper()
	ctx := t.Context()
	db := store.DB().WithContext(ctx)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed events: %v", err)
		}
	}
	sig, auth := models.AuthSignature, models.AuthAuthorization
	cur := models.AuthKeyCurrent
	withdraw := func(typ, tx, user string) []byte {
		return fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":"2025-06-02T19:40:02.530Z","data":{"wallet":"w","blockchain":"user",`+
			`"signature":%q,"total":{"cents":25000,"currency":"USD"},"merchantFees":{"cents":150,"currency":"USD"},"currency":"USD",`+
			`"merchantId":"acme","userId":%q,"email":%q,"accountNumber":%q,"cardToken":%q,"kyc":{"ssn":%q}}}`,
			typ, tx, user, EventEmail, EventAccountNumber, EventCardToken, EventSSN)
	}
	type spec struct {
		typ, status, method, tx, user string
		body                          []byte
		keep                          **models.InboxEvent
	}
	var specs []spec
	types := []string{"Withdraw Pending", "Withdraw Success", "Withdraw Failure"}
	statuses := []string{"applied", "applied", "pending", "ignored"}
	for i := range EventsSeeded - 6 {
		user := fmt.Sprintf("user-%d", i%4)
		tx := fmt.Sprintf("sig-%03d", i%20+1)
		method := sig
		if i%5 == 0 {
			method = auth
		}
		specs = append(specs, spec{typ: types[i%3], status: statuses[i%4], method: method, tx: tx, user: user, body: withdraw(types[i%3], tx, user)})
	}
	ev := &Events{}
	for _, p := range fx.Payouts {
		if p.Status == models.StatusPending && p.CoinflowTransaction != nil && ev.ParkedPayout == nil {
			ev.ParkedPayout = p
		}
	}
	if ev.ParkedPayout == nil {
		t.Fatal("seed events: no pending payout for the parked event")
	}
	parkedTx, parkedUser := *ev.ParkedPayout.CoinflowTransaction, ev.ParkedPayout.UserID
	specs = append(specs,
		spec{"Withdraw Success", "applied", sig, SearchTransaction, SearchUser, withdraw("Withdraw Success", SearchTransaction, SearchUser), &ev.Payout},
		spec{"KYC Success", "applied", auth, "", SearchUser,
			fmt.Appendf(nil, `{"eventType":"KYC Success","category":"KYC","created":"2025-06-02T19:40:02.530Z","data":{"wallet":"acmeʬ%s","blockchain":"user","email":%q,"dob":"19900101","ssn":%q}}`,
				SearchUser, EventEmail, EventSSN), &ev.Withdrawer},
		spec{"Withdraw Failure", "parked", sig, parkedTx, parkedUser, withdraw("Withdraw Failure", parkedTx, parkedUser), &ev.Parked},
		spec{"", "unprocessable", sig, "", "", []byte("ssn=" + EventSSN + "&email=" + EventEmail), &ev.NotJSON},
		spec{"Withdraw Pending", "applied", sig, "sig-001", "user-1", nil, &ev.Pruned},
		spec{"Purchase Success", "ignored", sig, "", "", []byte(`{"eventType":"Purchase Success","data":{"email":"` + EventEmail + `"}}`), &ev.Ignored},
	)
	start := fx.End.Add(-time.Duration(len(specs)+1) * 10 * time.Minute)
	for i, s := range specs {
		at := start.Add(time.Duration(i) * 10 * time.Minute)
		if i%7 == 3 && i > 0 {
			at = start.Add(time.Duration(i-1) * 10 * time.Minute) // same time as the one before: id breaks the tie
		}
		clock.Set(at)
		body := s.body
		if body == nil {
			body = withdraw(s.typ, s.tx, s.user)
		}
		e := models.InboxEvent{
			DedupKey: fmt.Sprintf("seed-%03d", i), EventType: s.typ, Body: body, AuthMethod: &s.method, AuthKey: &cur,
			SubjectTransaction: models.NonEmpty(s.tx), SubjectUserID: models.NonEmpty(s.user),
		}
		_, err := store.InboxInsert(ctx, []models.InboxEvent{e})
		must(err)
		must(db.Where("dedup_key = ?", e.DedupKey).First(&e).Error)
		upd := map[string]any{"status": s.status}
		switch s.status {
		case "applied", "ignored":
			upd["processed_at"] = at.Add(time.Second)
		case "pending":
			// Failed once; retried after the tests, so that draining the
			// applier applies only what a test re-queued.
			upd["attempts"] = 1
			upd["last_error"] = "database unavailable"
			upd["next_attempt_at"] = fx.End.Add(48 * time.Hour)
		case "parked":
			upd["attempts"] = 8
			upd["last_error"] = EventError
			upd["next_attempt_at"] = at.Add(time.Hour)
		case "unprocessable":
			upd["last_error"] = "body is not JSON"
			upd["processed_at"] = at.Add(time.Second)
		}
		if s.keep == &ev.Pruned {
			upd["body"] = []byte{}
			upd["body_pruned_at"] = at.Add(time.Minute)
		}
		must(db.Model(&models.InboxEvent{}).Where("id = ?", e.ID).Updates(upd).Error)
		if s.keep != nil {
			got, err := store.InboxGet(ctx, e.ID)
			must(err)
			*s.keep = got
		}
	}
	// The history rows the two linked events stand behind.
	must(db.Exec("UPDATE payout_history SET inbox_event_id = ? WHERE id = (SELECT MIN(id) FROM payout_history WHERE payout_id = ? AND source = 'webhook')",
		ev.Payout.ID, fx.Search.ID).Error)
	must(db.Exec("UPDATE withdrawer_history SET inbox_event_id = ? WHERE id = (SELECT MIN(id) FROM withdrawer_history WHERE user_id = ? AND source = 'webhook')",
		ev.Withdrawer.ID, SearchUser).Error)
	clock.Set(fx.End)
	var all []models.InboxEvent
	must(db.Order("received_at DESC, id DESC").Find(&all).Error)
	ev.All = all
	return ev
}
