package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

type eventJSON struct {
	ID          int64   `json:"id"`
	EventType   string  `json:"event_type"`
	State       string  `json:"state"`
	ReceivedAt  string  `json:"received_at"`
	ProcessedAt *string `json:"processed_at"`
	Attempts    int     `json:"attempts"`
	Auth        struct {
		Method *string `json:"method"`
		Key    *string `json:"key"`
	} `json:"auth"`
	Transaction *string `json:"transaction"`
	UserID      *string `json:"user_id"`
	DedupKey    string  `json:"dedup_key"`
	LastError   *string `json:"last_error"`
	Body        any     `json:"body"`
	Replays     []replayJSON
	Changed     struct {
		Payouts []struct {
			PayoutID  string `json:"payout_id"`
			HistoryID int64  `json:"history_id"`
		} `json:"payouts"`
		Withdrawers []struct {
			UserID string `json:"user_id"`
		} `json:"withdrawers"`
	} `json:"changed"`
}

type replayJSON struct {
	ID          int64   `json:"id"`
	EventID     int64   `json:"event_id"`
	ReplayedBy  string  `json:"replayed_by"`
	RequestedAt string  `json:"requested_at"`
	Outcome     *string `json:"outcome"`
	FinishedAt  *string `json:"finished_at"`
}

type eventPage struct {
	Events     []eventJSON `json:"events"`
	NextCursor string      `json:"next_cursor"`
}

func withdrawEvent(eventType, signature, user string, cents int64, extra string) []byte {
	category := "Withdraw"
	return fmt.Appendf(nil, `{"eventType":%q,"category":%q,"created":"2025-06-02T14:03:12.006Z",`+
		`"data":{"wallet":"w","blockchain":"solana","signature":%q,"total":{"cents":%d,"currency":"USD"},"currency":"USD",`+
		`"merchantFees":{"cents":150,"currency":"USD"},"merchantId":"acme-payouts","userId":%q%s}}`,
		eventType, category, signature, cents, user, extra)
}

func kycEvent(user, email string) []byte {
	return fmt.Appendf(nil, `{"eventType":"KYC Success","category":"KYC","created":"2025-05-01T12:00:02.845Z",`+
		`"data":{"wallet":"acme-payoutsʬ%s","blockchain":"user","email":%q}}`, user, email)
}

// poisonUser makes every insert of a payout for user fail in the database,
// the way a broken constraint would, until the returned fix runs.
func poisonUser(t *testing.T, s *models.Store, user string) (fix func()) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER payoutd_test_poison BEFORE INSERT ON payouts
		WHEN NEW.user_id = '` + user + `' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`}
	undo := []string{`DROP TRIGGER payoutd_test_poison`}
	if s.Dialect() == models.DialectPostgres {
		stmts = []string{
			`CREATE FUNCTION payoutd_test_poison() RETURNS trigger AS $$
			 BEGIN IF NEW.user_id = '` + user + `' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER payoutd_test_poison BEFORE INSERT ON payouts FOR EACH ROW EXECUTE FUNCTION payoutd_test_poison()`,
		}
		undo = []string{`DROP TRIGGER payoutd_test_poison ON payouts`, `DROP FUNCTION payoutd_test_poison()`}
	}
	for _, q := range stmts {
		require.NoError(t, s.DB().Exec(q).Error)
	}
	return func() {
		for _, q := range undo {
			require.NoError(t, s.DB().Exec(q).Error)
		}
	}
}

// parkedServer is a server whose applier parks an event after one failed
// attempt, so that a test can park one at will.
func parkedServer(t *testing.T, store *models.Store, clock *dbtest.Clock) *testserver.Server {
	return testserver.Start(t, store, testserver.Options{Clock: clock, Pipeline: webhook.PipelineConfig{
		Applier: inbox.ApplierConfig{MaxAttempts: 1},
	}})
}

func post(t *testing.T, srv *testserver.Server, body []byte, headers map[string]string) {
	t.Helper()
	var code int
	var resp string
	if headers == nil {
		code, resp = srv.PostSigned(t, body)
	} else {
		code, resp = srv.PostWebhook(t, body, headers)
	}
	require.Equal(t, http.StatusOK, code, "%s", resp)
}

func listEvents(t *testing.T, srv *testserver.Server, query string) eventPage {
	t.Helper()
	code, b := get(t, srv, "/api/v1/events?"+query)
	require.Equal(t, http.StatusOK, code, "%s: %s", query, b)
	var p eventPage
	mustJSON(t, b, &p)
	return p
}

func eventIDs(p eventPage) []int64 {
	out := make([]int64, len(p.Events))
	for i, e := range p.Events {
		out[i] = e.ID
	}
	return out
}

// TestListEventsFilters: each filter selects exactly its events, newest
// first, and bad values are refused naming the field.
func TestListEventsFilters(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, apiT0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		srv := parkedServer(t, store, clock)
		poisonUser(t, store, "u-poison")
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-1", "u-1", 2500, ""), nil) // 1 applied, signature
		clock.Advance(time.Minute)
		post(t, srv, withdrawEvent("Withdraw Success", "sig-2", "u-2", 3000, ""),
			map[string]string{"Authorization": testserver.WebhookKey}) // 2 applied, authorization
		clock.Advance(time.Minute)
		post(t, srv, kycEvent("u-3", "carol@example.com"), nil) // 3 applied
		clock.Advance(time.Minute)
		post(t, srv, []byte(`{"eventType":"Checkout Success","category":"Purchase","created":"2025-06-02T14:03:12.006Z","data":{}}`), nil) // 4 ignored
		clock.Advance(time.Minute)
		post(t, srv, []byte(`not json at all`), nil) // 5 unprocessable
		clock.Advance(time.Minute)
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-p", "u-poison", 100, ""), nil) // 6 parked
		srv.Drain(t)
		clock.Advance(time.Minute)
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-3", "u-1", 700, ""), nil) // 7 pending

		all := listEvents(t, srv, "")
		require.Equal(t, []int64{7, 6, 5, 4, 3, 2, 1}, eventIDs(all), "newest first")
		require.Empty(t, all.NextCursor)
		e2 := all.Events[5]
		require.Equal(t, "Withdraw Success", e2.EventType)
		require.Equal(t, "applied", e2.State)
		require.Equal(t, models.AuthAuthorization, *e2.Auth.Method)
		require.Equal(t, models.AuthKeyCurrent, *e2.Auth.Key)
		require.Equal(t, "sig-2", *e2.Transaction)
		require.Equal(t, "u-2", *e2.UserID)
		require.NotEmpty(t, e2.DedupKey)
		require.NotNil(t, e2.ProcessedAt)
		require.Nil(t, e2.Body, "a list shows no body")

		t0 := apiT0.Format(time.RFC3339)
		for query, want := range map[string][]int64{
			"state=applied":       {3, 2, 1},
			"state=pending":       {7},
			"state=parked":        {6},
			"state=ignored":       {4},
			"state=unprocessable": {5},
			"event_type=" + url.QueryEscape("Withdraw Pending"): {7, 6, 1},
			"event_type=" + url.QueryEscape("KYC Success"):      {3},
			"transaction=sig-2":  {2},
			"transaction=nope":   {},
			"user_id=u-1":        {7, 1},
			"user_id=u-3":        {3},
			"auth=authorization": {2},
			"auth=signature":     {7, 6, 5, 4, 3, 1},
			"from=" + url.QueryEscape(apiT0.Add(2*time.Minute).Format(time.RFC3339)):                                          {7, 6, 5, 4, 3},
			"to=" + url.QueryEscape(apiT0.Add(2*time.Minute).Format(time.RFC3339)):                                            {2, 1},
			"from=" + url.QueryEscape(t0) + "&to=" + url.QueryEscape(apiT0.Add(time.Minute+time.Second).Format(time.RFC3339)): {2, 1},
			"state=applied&user_id=u-1": {1},
			"state=pending&auth=signature&event_type=" + url.QueryEscape("Withdraw Pending"): {7},
		} {
			got := listEvents(t, srv, query)
			require.Equal(t, want, append([]int64{}, eventIDs(got)...), query)
		}
		requireInvalidQueries(t, srv, "/api/v1/events", []badQuery{
			{"state=done", "state"}, {"state=APPLIED", "state"}, {"auth=basic", "auth"},
			{"from=yesterday", "from"}, {"to=2025-13-01", "to"},
			{"from=2025-06-02&to=2025-06-01", "to"}, {"limit=0", "limit"}, {"limit=501", "limit"},
			{"cursor=not-a-cursor", "cursor"},
		})
	})
}

// TestListEventsPaging: 1,000 events, many sharing a receipt time, page
// newest first with no duplicate, no gap and a stable order.
func TestListEventsPaging(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, apiT0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		srv := testserver.Start(t, store, testserver.Options{Clock: clock})
		const n = 1000
		for batch := 0; batch < n/10; batch++ {
			evs := make([]models.InboxEvent, 10)
			for i := range evs {
				k := batch*10 + i
				evs[i] = models.InboxEvent{DedupKey: fmt.Sprintf("k-%d", k), EventType: "Withdraw Pending", Body: []byte(`{}`)}
			}
			_, err := store.InboxInsert(t.Context(), evs) // ten share a receipt time
			require.NoError(t, err)
			clock.Advance(time.Millisecond)
		}
		var seen []int64
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 100)
			q := "limit=37"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p := listEvents(t, srv, q)
			seen = append(seen, eventIDs(p)...)
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		require.Len(t, seen, n)
		for i := range seen {
			require.Equal(t, int64(n-i), seen[i], "newest first by (received_at, id): no gap, no duplicate")
		}
		// The same filter pages the same way.
		p := listEvents(t, srv, "limit=500&state=pending")
		require.Len(t, p.Events, 500)
		p2 := listEvents(t, srv, "limit=500&state=pending&cursor="+url.QueryEscape(p.NextCursor))
		require.Len(t, p2.Events, 500)
		require.Equal(t, int64(500), p2.Events[0].ID)
	})
}

// secrets are the body values no answer may show.
var secrets = []string{
	"carol@example.com", "carol", "123-45-6789", "1990-01-31", "000123456789", "021000021", "tok_card_4242",
	"pix-key-secret", "DE89370400440532013000", "4242424242424242", "hunter2",
}

const sensitiveExtra = `,"email":"carol@example.com","ssn":"123-45-6789","dob":"1990-01-31","accountNumber":"000123456789",` +
	`"bankAccount":{"routingNumber":"021000021","number":"000123456789"},"cardToken":"tok_card_4242","pixKey":"pix-key-secret",` +
	`"iban":"DE89370400440532013000","card":{"number":"4242424242424242"},"note":"reach carol@example.com","password":"hunter2"`

// TestEventMasking: no secret or PII from a body appears in any answer;
// ids, signature and amounts do.
func TestEventMasking(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-m", "u-m", 4321, sensitiveExtra), nil) // 1
		post(t, srv, kycEvent("u-k", "carol@example.com"), nil)                                    // 2
		post(t, srv, []byte("ssn=123-45-6789 not json"), nil)                                      // 3
		srv.Drain(t)
		// A stored error that quotes a body value is scrubbed too.
		require.NoError(t, srv.Store.DB().Exec(`UPDATE inbox_events SET last_error = ? WHERE id = 1`,
			`decide: user carol@example.com with account 000123456789 says "hunter2"`).Error)

		var answers []string
		for _, path := range []string{"/api/v1/events", "/api/v1/events/1", "/api/v1/events/2", "/api/v1/events/3"} {
			code, b := get(t, srv, path)
			require.Equal(t, http.StatusOK, code, "%s", b)
			answers = append(answers, string(b))
		}
		code, b := send(t, http.MethodPost, srv.URL+"/api/v1/events/1/replay", bearer, "")
		require.Equal(t, http.StatusAccepted, code, "%s", b)
		answers = append(answers, string(b))
		for _, a := range answers {
			for _, s := range secrets {
				require.NotContains(t, a, s, "an answer shows a body's secret: %s", a)
			}
		}

		var ev eventJSON
		_, b = get(t, srv, "/api/v1/events/1")
		mustJSON(t, b, &ev)
		body := ev.Body.(map[string]any)
		data := body["data"].(map[string]any)
		require.Equal(t, "c***@example.com", data["email"])
		for _, k := range []string{"ssn", "dob", "accountNumber", "bankAccount", "cardToken", "pixKey", "iban", "card", "password"} {
			require.Equal(t, "[masked]", data[k], k)
		}
		require.Equal(t, "sig-m", data["signature"], "the signature is kept")
		require.Equal(t, "u-m", data["userId"])
		require.EqualValues(t, 4321, data["total"].(map[string]any)["cents"], "amounts are kept")
		require.Equal(t, "reach c***@example.com", data["note"])
		require.Equal(t, "Withdraw Pending", body["eventType"])
		require.NotContains(t, *ev.LastError, "000123456789")

		_, b = get(t, srv, "/api/v1/events/2")
		mustJSON(t, b, &ev)
		require.Equal(t, "c***@example.com", ev.Body.(map[string]any)["data"].(map[string]any)["email"])
		require.Equal(t, []string{"u-k"}, []string{ev.Changed.Withdrawers[0].UserID})

		_, b = get(t, srv, "/api/v1/events/3")
		mustJSON(t, b, &ev)
		require.Equal(t, "[not JSON, 24 bytes]", ev.Body)
		require.Equal(t, "unprocessable", ev.State)

		// A pruned body says so.
		require.NoError(t, srv.Store.DB().Exec(`UPDATE inbox_events SET body = ?, body_pruned_at = ? WHERE id = 2`, []byte{}, apiT0).Error)
		_, b = get(t, srv, "/api/v1/events/2")
		mustJSON(t, b, &ev)
		require.Equal(t, "[pruned "+apiT0.Format(time.RFC3339)+"]", ev.Body)
	})
}

func TestEventRoutesNeedTokenAndKnownIDs(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-1", "u-1", 2500, ""), nil)
		for _, rt := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/events"}, {http.MethodGet, "/api/v1/events/1"}, {http.MethodPost, "/api/v1/events/1/replay"},
		} {
			for _, auth := range []string{"", "Bearer wrong-token", "Bearer " + testserver.APIToken + "x"} {
				code, b := send(t, rt.method, srv.URL+rt.path, auth, "")
				require.Equal(t, http.StatusUnauthorized, code, "%s %s %q: %s", rt.method, rt.path, auth, b)
				requireError(t, b, "unauthorized")
			}
		}
		n, err := srv.Store.EventReplayList(t.Context(), 1)
		require.NoError(t, err)
		require.Empty(t, n, "a refused replay records nothing")
		for _, path := range []string{"/api/v1/events/99", "/api/v1/events/abc", "/api/v1/events/-1"} {
			code, b := get(t, srv, path)
			requireNotFound(t, code, b)
			code, b = send(t, http.MethodPost, srv.URL+path+"/replay", bearer, "")
			requireNotFound(t, code, b)
		}
	})
}

func replay(t *testing.T, srv *testserver.Server, id int64) replayJSON {
	t.Helper()
	code, b := send(t, http.MethodPost, fmt.Sprintf("%s/api/v1/events/%d/replay", srv.URL, id), bearer, "")
	require.Equal(t, http.StatusAccepted, code, "%s", b)
	requireUTCTimes(t, b)
	var r replayJSON
	mustJSON(t, b, &r)
	require.Equal(t, id, r.EventID)
	require.Equal(t, principal.APIToken, r.ReplayedBy)
	require.NotEmpty(t, r.RequestedAt)
	require.NotNil(t, r.FinishedAt)
	require.NotNil(t, r.Outcome)
	return r
}

// snapshotCounts is what a replay must not change when it changes nothing.
func snapshotCounts(t *testing.T, s *models.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"payouts", "payout_history", "withdrawers", "withdrawer_history", "findings"} {
		var n int64
		require.NoError(t, s.DB().Table(table).Count(&n).Error)
		out[table] = n
	}
	return out
}

// TestReplaySemantics: replaying an applied event changes nothing; a
// parked event replayed after its cause is fixed applies once; the event
// page shows the replays and what the event changed.
func TestReplaySemantics(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, apiT0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		srv := parkedServer(t, store, clock)
		fix := poisonUser(t, store, "u-poison")
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-1", "u-1", 2500, ""), nil)     // 1
		post(t, srv, withdrawEvent("Withdraw Success", "sig-1", "u-1", 2500, ""), nil)     // 2
		post(t, srv, withdrawEvent("Withdraw Pending", "sig-p", "u-poison", 100, ""), nil) // 3
		post(t, srv, kycEvent("u-k", "k@example.com"), nil)                                // 4
		srv.Drain(t)

		before := snapshotCounts(t, store)
		var p1 models.Payout
		require.NoError(t, store.DB().Where("coinflow_transaction = ?", "sig-1").First(&p1).Error)
		for _, id := range []int64{1, 2, 4, 1} { // an older event of a payout that moved on, too
			r := replay(t, srv, id)
			require.Equal(t, inbox.ReplayUnchanged, *r.Outcome, "event %d", id)
		}
		require.Equal(t, before, snapshotCounts(t, store), "replaying applied events changes nothing")
		var p1After models.Payout
		require.NoError(t, store.DB().Where("id = ?", p1.ID).First(&p1After).Error)
		require.Equal(t, p1, p1After)
		require.Equal(t, models.StatusCompleted, p1After.Status)

		// Parked: a replay before the fix fails again and, with MaxAttempts
		// 1, parks it again; after the fix, it applies once.
		var ev eventJSON
		_, b := get(t, srv, "/api/v1/events/3")
		mustJSON(t, b, &ev)
		require.Equal(t, "parked", ev.State)
		require.Equal(t, inbox.ReplayUnchanged, *replay(t, srv, 3).Outcome)
		_, b = get(t, srv, "/api/v1/events/3")
		mustJSON(t, b, &ev)
		require.Equal(t, "parked", ev.State)
		require.Contains(t, *ev.LastError, "poisoned")

		fix()
		require.Equal(t, "applied", *replay(t, srv, 3).Outcome)
		require.Equal(t, inbox.ReplayUnchanged, *replay(t, srv, 3).Outcome, "a second replay changes nothing")
		require.Zero(t, srv.Drain(t))
		var n int64
		require.NoError(t, store.DB().Model(&models.PayoutHistory{}).Where("inbox_event_id = 3").Count(&n).Error)
		require.EqualValues(t, 1, n, "applied once")
		require.NoError(t, store.DB().Model(&models.Payout{}).Where("coinflow_transaction = 'sig-p'").Count(&n).Error)
		require.EqualValues(t, 1, n)

		_, b = get(t, srv, "/api/v1/events/3")
		mustJSON(t, b, &ev)
		require.Equal(t, "applied", ev.State)
		require.Zero(t, ev.Attempts)
		require.Len(t, ev.Replays, 3)
		var outcomes []string
		for _, r := range ev.Replays {
			require.Equal(t, principal.APIToken, r.ReplayedBy)
			outcomes = append(outcomes, *r.Outcome)
		}
		require.Equal(t, []string{"unchanged", "applied", "unchanged"}, outcomes)
		require.Len(t, ev.Changed.Payouts, 1)
		var p3 models.Payout
		require.NoError(t, store.DB().Where("coinflow_transaction = 'sig-p'").First(&p3).Error)
		require.Equal(t, p3.ID, ev.Changed.Payouts[0].PayoutID, "the event links to the payout it changed")

		// And the payout's history links back to the event.
		var pv testserver.Payout
		require.Equal(t, http.StatusOK, srv.API(t, http.MethodGet, "/api/v1/payouts/"+p3.ID, nil, &pv))
		_, b = get(t, srv, "/api/v1/payouts/"+p3.ID)
		require.True(t, strings.Contains(string(b), `"inbox_event_id":3`), "%s", b)
	})
}

// TestReplayRaceTwoProcesses: 16 replays of one parked event, racing on two
// payoutd processes sharing one PostgreSQL database, apply it once.
func TestReplayRaceTwoProcesses(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.PostgresURL(t)
	open := func() *models.Store {
		s, err := models.Open(t.Context(), models.Options{URL: dbURL})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		_, err = s.Migrate(t.Context())
		require.NoError(t, err)
		return s
	}
	s1, s2 := open(), open()
	srv1 := parkedServer(t, s1, nil)
	srv2 := parkedServer(t, s2, nil)
	fix := poisonUser(t, s1, "u-poison")
	post(t, srv1, withdrawEvent("Withdraw Pending", "sig-p", "u-poison", 100, ""), nil)
	srv1.Drain(t)
	ev, err := s1.InboxGet(t.Context(), 1)
	require.NoError(t, err)
	require.Equal(t, models.InboxParked, ev.Status)
	fix()

	outcomes := make(chan string, 16)
	for i := range 16 {
		srv := []*testserver.Server{srv1, srv2}[i%2]
		go func() {
			code, b := send(t, http.MethodPost, srv.URL+"/api/v1/events/1/replay", bearer, "")
			if code != http.StatusAccepted {
				outcomes <- fmt.Sprintf("%d %s", code, b)
				return
			}
			var r replayJSON
			mustJSON(t, b, &r)
			outcomes <- *r.Outcome
		}()
	}
	counts := map[string]int{}
	for range 16 {
		counts[<-outcomes]++
	}
	require.Equal(t, map[string]int{"applied": 1, "unchanged": 15}, counts)
	var n int64
	require.NoError(t, s1.DB().Model(&models.PayoutHistory{}).Where("inbox_event_id = 1").Count(&n).Error)
	require.EqualValues(t, 1, n)
	require.NoError(t, s1.DB().Model(&models.Payout{}).Count(&n).Error)
	require.EqualValues(t, 1, n)
	rs, err := s1.EventReplayList(t.Context(), 1)
	require.NoError(t, err)
	require.Len(t, rs, 16)
}
