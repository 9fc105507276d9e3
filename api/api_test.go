package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/apispec"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

var apiT0 = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

// eachDB runs fn on both databases with a store and server sharing a clock
// that starts at apiT0 in each.
func eachDB(t *testing.T, fn func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock)) {
	t.Helper()
	dbtest.EachAt(t, apiT0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fn(t, testserver.Start(t, store, testserver.Options{Clock: clock}), clock)
	})
}

// send makes a request with the given Authorization header ("" for none)
// and returns the status and raw body.
func send(t *testing.T, method, rawURL, authorization, body string) (int, []byte) {
	t.Helper()
	code, _, b := request(t, method, rawURL, authorization, "", body)
	return code, b
}

// request sends one request with the Authorization and X-Forwarded-For
// headers ("" for none) and returns the status, headers and body.
func request(t *testing.T, method, rawURL, authorization, forwardedFor, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, rd)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

const bearer = "Bearer " + testserver.APIToken

// get sends an authenticated GET and checks that every time in a 200 answer
// is RFC 3339 UTC.
func get(t *testing.T, srv *testserver.Server, path string) (int, []byte) {
	t.Helper()
	code, b := send(t, http.MethodGet, srv.URL+path, bearer, "")
	if code == http.StatusOK {
		requireUTCTimes(t, b)
	}
	return code, b
}

type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// requireError checks SPEC's error shape and returns it.
func requireError(t *testing.T, b []byte, code string) errorBody {
	t.Helper()
	var raw map[string]map[string]any
	require.NoError(t, json.Unmarshal(b, &raw), "error body %s", b)
	require.Len(t, raw, 1, "only an error object: %s", b)
	require.Contains(t, raw["error"], "code", "%s", b)
	require.Contains(t, raw["error"], "message", "%s", b)
	var e errorBody
	require.NoError(t, json.Unmarshal(b, &e))
	require.Equal(t, code, e.Error.Code, "%s", b)
	require.NotEmpty(t, e.Error.Message, "%s", b)
	return e
}

// requireInvalid requires a 422 invalid_request answer that names field;
// what says which request it was.
func requireInvalid(t *testing.T, code int, b []byte, field, what string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %s", what, b)
	e := requireError(t, b, "invalid_request")
	require.Contains(t, e.Error.Fields, field, "%s: %s", what, b)
}

// badQuery is a query string the API must refuse, and the field it must
// name in the refusal.
type badQuery struct{ query, field string }

// requireInvalidQueries requires each GET path?query to be refused with 422
// invalid_request naming its field.
func requireInvalidQueries(t *testing.T, srv *testserver.Server, path string, queries []badQuery) {
	t.Helper()
	for _, q := range queries {
		code, b := get(t, srv, path+"?"+q.query)
		requireInvalid(t, code, b, q.field, q.query)
	}
}

// requireNotFound requires a 404 not_found answer.
func requireNotFound(t *testing.T, code int, b []byte) {
	t.Helper()
	require.Equal(t, http.StatusNotFound, code, "%s", b)
	requireError(t, b, "not_found")
}

// requireUTCTimes walks a JSON answer and requires every string under a key
// ending in _at to be an RFC 3339 time in UTC ("Z").
func requireUTCTimes(t *testing.T, b []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				walk(k, child)
			}
		case []any:
			for _, child := range x {
				walk(key, child)
			}
		case string:
			if strings.HasSuffix(key, "_at") {
				_, err := time.Parse(time.RFC3339Nano, x)
				require.NoError(t, err, "%s = %q is not RFC 3339", key, x)
				require.True(t, strings.HasSuffix(x, "Z"), "%s = %q is not UTC", key, x)
			}
		}
	}
	walk("", v)
}

func mustJSON(t *testing.T, b []byte, out any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(b, out), "%s", b)
}

type findingJSON struct {
	ID             string         `json:"id"`
	Kind           string         `json:"kind"`
	Severity       string         `json:"severity"`
	Status         string         `json:"status"`
	PayoutID       *string        `json:"payout_id"`
	Details        map[string]any `json:"details"`
	FirstSeenAt    string         `json:"first_seen_at"`
	ResolvedAt     *string        `json:"resolved_at"`
	AcknowledgedAt *string        `json:"acknowledged_at"`
	AcknowledgedBy *string        `json:"acknowledged_by"`
	Note           *string        `json:"note"`
}

type findingPage struct {
	Findings   []findingJSON `json:"findings"`
	NextCursor string        `json:"next_cursor"`
}

func raise(t *testing.T, store *models.Store, kind models.FindingKind, subject string, sev models.Severity, payoutID string) *models.Finding {
	t.Helper()
	f := models.Finding{Kind: kind, Subject: subject, Severity: sev, Details: models.Details{"subject": subject}}
	if payoutID != "" {
		f.PayoutID = &payoutID
	}
	got, opened, err := store.FindingRaise(t.Context(), f)
	require.NoError(t, err)
	require.True(t, opened)
	return got
}

func TestAPIRequiresBearerToken(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		store := srv.Store
		f := raise(t, store, models.KindStuckPayout, "p-auth", models.SeverityWarning, "p-auth")
		routes := []struct{ method, path, body string }{
			{http.MethodGet, "/api/v1/payouts", ""},
			{http.MethodGet, "/api/v1/payouts/p-auth", ""},
			{http.MethodGet, "/api/v1/withdrawers/u-1", ""},
			{http.MethodGet, "/api/v1/findings", ""},
			{http.MethodPost, "/api/v1/findings/" + f.ID + "/acknowledge", `{"note":"looked at it","by":"mallory"}`},
		}
		for _, rt := range routes {
			for _, auth := range []string{
				"",                                    // missing
				"Bearer wrong-token",                  // wrong
				"Bearer " + testserver.APIToken + "x", // a prefix of the right one is not enough
				"Bearer",                              // no token
				testserver.APIToken,                   // not a bearer credential
				"Basic " + base64.StdEncoding.EncodeToString([]byte("api:"+testserver.APIToken)),
			} {
				code, b := send(t, rt.method, srv.URL+rt.path, auth, rt.body)
				require.Equal(t, http.StatusUnauthorized, code, "%s %s with %q: %s", rt.method, rt.path, auth, b)
				requireError(t, b, "unauthorized")
				require.NotContains(t, string(b), testserver.APIToken)
			}
		}

		got, err := store.FindingGet(t.Context(), f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingOpen, got.Status, "a refused acknowledge changes nothing")
		require.Nil(t, got.AcknowledgedAt)
		require.Nil(t, got.AcknowledgedBy)
		require.Nil(t, got.AckNote)

		// The same request with the right token goes through.
		code, b := send(t, http.MethodPost, srv.URL+"/api/v1/findings/"+f.ID+"/acknowledge", bearer, `{"note":"looked at it"}`)
		require.Equal(t, http.StatusOK, code, "%s", b)
		got, err = store.FindingGet(t.Context(), f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingAcknowledged, got.Status)

		code, _ = send(t, http.MethodGet, srv.URL+"/healthz", "", "")
		require.Equal(t, http.StatusOK, code, "health needs no token")
	})
}

// startRouter wires the router the way serve does (including the backlog
// gauges, which testserver leaves out), with the given API token.
func startRouter(t *testing.T, store *models.Store, clock *dbtest.Clock, token string) (string, *webhook.Pipeline) {
	t.Helper()
	var tokens []principal.Token
	if token != "" {
		tokens = []principal.Token{{Name: principal.APIToken, Secret: []byte(token)}}
	}
	return startRouterWith(t, store, clock, api.Deps{Tokens: tokens})
}

// startRouterWith is startRouter with d's tokens, proxies, rate limits and
// metrics (default new ones).
func startRouterWith(t *testing.T, store *models.Store, clock *dbtest.Clock, d api.Deps) (string, *webhook.Pipeline) {
	t.Helper()
	logger, _ := logtest.NewNullLogger()
	m := d.Metrics
	if m == nil {
		m = metrics.New()
	}
	m.RegisterBacklog(store.InboxBacklog, clock.Now)
	pipe, err := webhook.NewPipeline(store, logger, m, webhook.PipelineConfig{
		Handler: webhook.HandlerConfig{Key: []byte(testserver.WebhookKey), NowFunc: clock.Now},
		Applier: inbox.ApplierConfig{NowFunc: clock.Now},
	})
	require.NoError(t, err)
	t.Cleanup(pipe.Committer.Close)
	gin.SetMode(gin.ReleaseMode)
	d.Store, d.Metrics, d.Log, d.Webhook = store, m, logger.WithField("component", "http"), pipe.Handler
	router := api.NewRouter(d)
	hs := httptest.NewServer(apispec.Handler(t, router))
	t.Cleanup(hs.Close)
	return hs.URL, pipe
}

func TestAPITokenNotConfigured(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, apiT0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		base, _ := startRouter(t, store, clock, "")
		f := raise(t, store, models.KindStuckPayout, "p-1", models.SeverityWarning, "p-1")
		for _, rt := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/v1/payouts", ""},
			{http.MethodGet, "/api/v1/payouts/p-1", ""},
			{http.MethodGet, "/api/v1/withdrawers/u-1", ""},
			{http.MethodGet, "/api/v1/findings", ""},
			{http.MethodPost, "/api/v1/findings/" + f.ID + "/acknowledge", `{"note":"n"}`},
		} {
			// An empty bearer token must not match the empty configured one.
			for _, auth := range []string{"", "Bearer ", "Bearer anything"} {
				code, b := send(t, rt.method, base+rt.path, auth, rt.body)
				require.Equal(t, http.StatusServiceUnavailable, code, "%s %s with %q: %s", rt.method, rt.path, auth, b)
				e := requireError(t, b, "not_configured")
				require.Equal(t, "api token not configured", e.Error.Message)
			}
		}
		got, err := store.FindingGet(t.Context(), f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingOpen, got.Status)

		code, _ := send(t, http.MethodGet, base+"/healthz", "", "")
		require.Equal(t, http.StatusOK, code)
		code, _ = send(t, http.MethodGet, base+"/readyz", "", "")
		require.Equal(t, http.StatusOK, code)
	})
}

// listFixture makes seven payouts a minute apart, oldest first.
func listFixture(t *testing.T, store *models.Store, clock *dbtest.Clock) []*models.Payout {
	t.Helper()
	type spec struct {
		user, req, eff, tx, key string
		status                  models.PayoutStatus
		detail                  string
	}
	specs := []spec{
		{"u-1", "same_day", "standard", "sig-0", "k-0", models.StatusPending, ""},
		{"u-2", "asap", "asap", "sig-1", "k-1", models.StatusCompleted, ""},
		{"u-1", "standard", "standard", "sig-2", "k-2", models.StatusFailed, ""},
		{"u-3", "asap", "", "", "k-3", models.StatusRequested, ""},
		{"u-2", "same_day", "same_day", "sig-4", "k-4", models.StatusInReview, models.DetailOnHold},
		{"u-1", "asap", "", "", "k-5", models.StatusUnknown, ""},
		{"u-3", "wire", "wire", "sig-6", "k-6", models.StatusPending, models.DetailUnclaimed},
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	var out []*models.Payout
	for i, s := range specs {
		if i > 0 {
			clock.Advance(time.Minute)
		}
		p := &models.Payout{
			IdempotencyKey: opt(s.key), UserID: s.user, Amount: models.Money{Cents: int64(1000 * (i + 1)), Currency: "USD"},
			RequestedSpeed: opt(s.req), EffectiveSpeed: opt(s.eff), Status: s.status, StatusDetail: opt(s.detail),
			CoinflowTransaction: opt(s.tx), AccountToken: opt("acct-secret-" + s.key), Source: models.OriginAPI,
		}
		require.NoError(t, store.PayoutCreate(t.Context(), p, models.SourceAPI, nil))
		out = append(out, p)
	}
	clock.Advance(time.Minute)
	return out
}

func ids(ps []testserver.Payout) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func TestListPayouts(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		ps := listFixture(t, srv.Store, clock)
		idsOf := func(idx ...int) []string {
			out := make([]string, len(idx))
			for i, n := range idx {
				out[i] = ps[n].ID
			}
			return out
		}
		list := func(t *testing.T, query string) testserver.PayoutPage {
			t.Helper()
			code, b := get(t, srv, "/api/v1/payouts?"+query)
			require.Equal(t, http.StatusOK, code, "%s", b)
			require.NotContains(t, string(b), "acct-secret", "account tokens are never shown")
			var page testserver.PayoutPage
			mustJSON(t, b, &page)
			require.NotNil(t, page.Payouts, "payouts is a list, never null: %s", b)
			return page
		}

		t.Run("newest first, paged by cursor", func(t *testing.T) {
			var got []string
			var cursors []string
			query := "limit=3"
			for page := range 3 {
				pg := list(t, query)
				got = append(got, ids(pg.Payouts)...)
				cursors = append(cursors, pg.NextCursor)
				if page < 2 {
					require.Len(t, pg.Payouts, 3)
					require.NotEmpty(t, pg.NextCursor, "page %d", page)
				}
				query = "limit=3&cursor=" + url.QueryEscape(pg.NextCursor)
			}
			require.Equal(t, idsOf(6, 5, 4, 3, 2, 1, 0), got)
			require.Empty(t, cursors[2], "the last page has no next cursor")
			require.NotEqual(t, cursors[0], cursors[1])

			all := list(t, "")
			require.Equal(t, idsOf(6, 5, 4, 3, 2, 1, 0), ids(all.Payouts), "default limit covers everything")
			require.Empty(t, all.NextCursor)

			exact := list(t, "limit=7")
			require.Len(t, exact.Payouts, 7)
			require.Empty(t, exact.NextCursor, "an exactly full last page has no next cursor")

			first := list(t, "user_id=u-1&limit=2")
			require.Equal(t, idsOf(5, 2), ids(first.Payouts))
			second := list(t, "user_id=u-1&limit=2&cursor="+url.QueryEscape(first.NextCursor))
			require.Equal(t, idsOf(0), ids(second.Payouts), "the cursor pages within the filter")
			require.Empty(t, second.NextCursor)
		})

		t.Run("the view", func(t *testing.T) {
			pg := list(t, "transaction=sig-4")
			require.Len(t, pg.Payouts, 1)
			p := pg.Payouts[0]
			require.Equal(t, ps[4].ID, p.ID)
			require.Equal(t, "u-2", p.UserID)
			require.EqualValues(t, 5000, p.Amount.Cents)
			require.Equal(t, "USD", p.Amount.Currency)
			require.Equal(t, "in_review", p.Status)
			require.Equal(t, "on_hold", *p.StatusDetail)
			require.Equal(t, "same_day", *p.RequestedSpeed)
			require.Equal(t, "sig-4", *p.Coinflow.Transaction)
			require.Equal(t, "k-4", *p.IdempotencyKey)
			require.Equal(t, "api", p.Source)
			require.Equal(t, apiT0.Add(4*time.Minute).Format(time.RFC3339), p.CreatedAt)
			require.Empty(t, p.History, "lists carry no history")
		})

		for _, tc := range []struct {
			name, query string
			want        []int
		}{
			{"status", "status=pending", []int{6, 0}},
			{"status in_review", "status=in_review", []int{4}},
			{"status requested", "status=requested", []int{3}},
			{"status unknown", "status=unknown", []int{5}},
			{"status without payouts", "status=completed&user_id=u-1", nil},
			{"user_id", "user_id=u-2", []int{4, 1}},
			{"unknown user_id", "user_id=u-404", nil},
			{"speed matches requested or effective", "speed=same_day", []int{4, 0}},
			{"speed standard", "speed=standard", []int{2, 0}},
			{"speed wire", "speed=wire", []int{6}},
			{"transaction", "transaction=sig-1", []int{1}},
			{"unknown transaction", "transaction=sig-404", nil},
			{"idempotency_key", "idempotency_key=k-3", []int{3}},
			{"from is inclusive", "from=" + url.QueryEscape(apiT0.Add(2*time.Minute).Format(time.RFC3339)), []int{6, 5, 4, 3, 2}},
			{"to is exclusive", "to=" + url.QueryEscape(apiT0.Add(2*time.Minute).Format(time.RFC3339)), []int{1, 0}},
			{"from and to", "from=" + url.QueryEscape(apiT0.Add(2*time.Minute).Format(time.RFC3339)) + "&to=" + url.QueryEscape(apiT0.Add(4*time.Minute).Format(time.RFC3339)), []int{3, 2}},
			{"from with an offset is an instant", "from=" + url.QueryEscape("2025-06-01T12:05:00+02:00"), []int{6, 5}},
			{"from as a date", "from=2025-06-01", []int{6, 5, 4, 3, 2, 1, 0}},
			{"to as a date", "to=2025-06-01", nil},
			{"to as the next date", "to=2025-06-02", []int{6, 5, 4, 3, 2, 1, 0}},
			{"filters combine", "status=pending&user_id=u-3", []int{6}},
			{"limit 500 is allowed", "limit=500", []int{6, 5, 4, 3, 2, 1, 0}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pg := list(t, tc.query)
				require.Equal(t, idsOf(tc.want...), ids(pg.Payouts))
				require.Empty(t, pg.NextCursor)
			})
		}

		t.Run("bad parameters are 422", func(t *testing.T) {
			requireInvalidQueries(t, srv, "/api/v1/payouts", []badQuery{
				{"status=done", "status"},
				{"status=PENDING", "status"},
				{"speed=warp", "speed"},
				{"from=yesterday", "from"},
				{"to=2025-13-01", "to"},
				{"from=2025-06-01T10:00:00", "from"},
				{"from=2025-06-02&to=2025-06-01", "to"},
				{"from=2025-06-01&to=2025-06-01", "to"},
				{"from=" + url.QueryEscape("2025-06-01T12:00:00+02:00") + "&to=" + url.QueryEscape("2025-06-01T09:59:59Z"), "to"},
				{"limit=0", "limit"},
				{"limit=-1", "limit"},
				{"limit=501", "limit"},
				{"limit=abc", "limit"},
				{"limit=2.5", "limit"},
				{"cursor=" + url.QueryEscape("!!!"), "cursor"},
				{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("no separator")), "cursor"},
				{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("not a time|p-1")), "cursor"},
				{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte(apiT0.Format(time.RFC3339Nano)+"|")), "cursor"},
			})
		})
	})
}

func TestGetPayout(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		ctx := t.Context()
		store := srv.Store
		p := &models.Payout{
			IdempotencyKey: new("k-get"), UserID: "u-9", Amount: models.Money{Cents: 250000, Currency: "USD"},
			RequestedSpeed: new("same_day"), Status: models.StatusPending, CoinflowTransaction: new("sig-get"),
			AccountToken: new("acct-secret-get"), Source: models.OriginAPI,
		}
		require.NoError(t, store.PayoutCreate(ctx, p, models.SourceAPI, nil))
		clock.Advance(time.Hour)
		apply := func(ev decide.Withdrawal) {
			_, err := dbtest.Apply(ctx, store, p.ID, ev)
			require.NoError(t, err)
		}
		apply(decide.Withdrawal{Status: models.StatusCompleted, At: apiT0.Add(30 * time.Minute), Source: models.SourceReconcile})
		apply(decide.Withdrawal{Status: models.StatusPending, At: apiT0.Add(40 * time.Minute), Source: models.SourceWebhook})

		code, b := get(t, srv, "/api/v1/payouts/"+p.ID)
		require.Equal(t, http.StatusOK, code, "%s", b)
		require.NotContains(t, string(b), "acct-secret")
		var got testserver.Payout
		mustJSON(t, b, &got)
		require.Equal(t, p.ID, got.ID)
		require.Equal(t, "completed", got.Status)
		require.EqualValues(t, 250000, got.Amount.Cents)
		require.Len(t, got.History, 3, "%s", b)
		require.Nil(t, got.History[0].FromStatus)
		require.Equal(t, "pending", got.History[0].ToStatus)
		require.Equal(t, models.ReasonCreated, got.History[0].Reason)
		require.Equal(t, "api", got.History[0].Source)
		require.Equal(t, "pending", *got.History[1].FromStatus)
		require.Equal(t, "completed", got.History[1].ToStatus)
		require.True(t, got.History[1].Applied)
		require.Equal(t, models.ReasonAdvanced, got.History[1].Reason)
		require.Equal(t, "reconcile", got.History[1].Source)
		require.Equal(t, apiT0.Add(30*time.Minute).Format(time.RFC3339), got.History[1].EvidenceAt)
		require.Equal(t, "pending", got.History[2].ToStatus)
		require.False(t, got.History[2].Applied, "a late pending is recorded, not applied")
		require.Equal(t, models.ReasonStale, got.History[2].Reason)

		for _, id := range []string{"no-such-payout", models.NewID()} {
			code, b = get(t, srv, "/api/v1/payouts/"+id)
			requireNotFound(t, code, b)
		}
	})
}

func TestGetWithdrawer(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		ctx := t.Context()
		store := srv.Store
		for _, v := range []decide.Verification{
			{Status: models.VerificationPending, At: apiT0.Add(-2 * time.Hour)},
			{Status: models.VerificationApproved, At: apiT0.Add(-time.Hour)},
		} {
			v.Source, v.UserID, v.Wallet, v.Blockchain = models.SourceWebhook, "u-kyc", "acme-payoutsʬu-kyc", "solana"
			v.EmailMasked = models.MaskEmail("alice@example.com")
			require.NoError(t, store.Tx(ctx, func(tx *models.Store) error {
				cur, err := tx.WithdrawerForUpdate(ctx, v.UserID)
				if err != nil {
					return err
				}
				_, err = tx.WithdrawerWrite(ctx, decide.Withdrawer(cur, v).Write)
				return err
			}))
			clock.Advance(time.Minute)
		}

		code, b := get(t, srv, "/api/v1/withdrawers/u-kyc")
		require.Equal(t, http.StatusOK, code, "%s", b)
		require.NotContains(t, string(b), "alice@", "the full email is never shown")
		var w testserver.Withdrawer
		mustJSON(t, b, &w)
		require.Equal(t, "u-kyc", w.UserID)
		require.Equal(t, "acme-payoutsʬu-kyc", w.Wallet)
		require.Equal(t, "a***@example.com", w.Email)
		require.Equal(t, "approved", w.VerificationStatus)
		require.Equal(t, apiT0.Add(-time.Hour).Format(time.RFC3339), w.VerificationAt)
		require.NotNil(t, w.Blocked, "blocked is always present")
		require.False(t, *w.Blocked)
		require.Nil(t, w.LastSyncedAt, "never reconciled")
		require.Len(t, w.History, 2)
		require.Equal(t, "pending", w.History[0].ToStatus)
		require.Equal(t, models.ReasonCreated, w.History[0].Reason)
		require.Equal(t, "approved", w.History[1].ToStatus)
		require.True(t, w.History[1].Applied)

		code, b = get(t, srv, "/api/v1/withdrawers/u-nobody")
		requireNotFound(t, code, b)
	})
}

func TestListFindings(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		ctx := t.Context()
		store := srv.Store
		var fs []*models.Finding
		for _, f := range []struct {
			kind            models.FindingKind
			subject, payout string
			severity        models.Severity
		}{
			{models.KindStatusMismatch, "p-a", "p-a", models.SeverityError},
			{models.KindSpeedMismatch, "p-a", "p-a", models.SeverityWarning},
			{models.KindStuckPayout, "p-b", "p-b", models.SeverityWarning},
			{models.KindWebhookUnprocessable, "inbox:1", "", models.SeverityWarning},
			{models.KindWalletLowBalance, "wallet", "", models.SeverityError},
		} {
			fs = append(fs, raise(t, store, f.kind, f.subject, f.severity, f.payout))
			clock.Advance(time.Minute)
		}
		resolved, err := store.FindingResolve(ctx, models.KindStuckPayout, "p-b")
		require.NoError(t, err)
		require.True(t, resolved)
		_, err = store.FindingAcknowledge(ctx, fs[1].ID, "bob", "expected downgrade")
		require.NoError(t, err)

		list := func(t *testing.T, query string) findingPage {
			t.Helper()
			code, b := get(t, srv, "/api/v1/findings?"+query)
			require.Equal(t, http.StatusOK, code, "%s", b)
			var pg findingPage
			mustJSON(t, b, &pg)
			require.NotNil(t, pg.Findings, "findings is a list, never null: %s", b)
			return pg
		}
		idsOf := func(idx ...int) []string {
			out := []string{}
			for _, n := range idx {
				out = append(out, fs[n].ID)
			}
			return out
		}
		findingIDs := func(pg findingPage) []string {
			out := []string{}
			for _, f := range pg.Findings {
				out = append(out, f.ID)
			}
			return out
		}

		t.Run("newest first, paged by cursor", func(t *testing.T) {
			var got []string
			query := "limit=2"
			for page := range 3 {
				pg := list(t, query)
				got = append(got, findingIDs(pg)...)
				if page < 2 {
					require.NotEmpty(t, pg.NextCursor)
				} else {
					require.Empty(t, pg.NextCursor)
				}
				query = "limit=2&cursor=" + url.QueryEscape(pg.NextCursor)
			}
			require.Equal(t, idsOf(4, 3, 2, 1, 0), got)
		})

		t.Run("the view", func(t *testing.T) {
			pg := list(t, "status=resolved")
			require.Len(t, pg.Findings, 1)
			f := pg.Findings[0]
			require.Equal(t, fs[2].ID, f.ID)
			require.Equal(t, "stuck_payout", f.Kind)
			require.Equal(t, "warning", f.Severity)
			require.Equal(t, "resolved", f.Status)
			require.Equal(t, "p-b", *f.PayoutID)
			require.Equal(t, map[string]any{"subject": "p-b"}, f.Details)
			require.Equal(t, apiT0.Add(2*time.Minute).Format(time.RFC3339), f.FirstSeenAt)
			require.NotNil(t, f.ResolvedAt)
			require.Equal(t, apiT0.Add(5*time.Minute).Format(time.RFC3339), *f.ResolvedAt)
		})

		for _, tc := range []struct {
			name, query string
			want        []int
		}{
			{"status open", "status=open", []int{4, 3, 0}},
			{"status acknowledged", "status=acknowledged", []int{1}},
			{"status resolved", "status=resolved", []int{2}},
			{"kind", "kind=speed_mismatch", []int{1}},
			{"kind without findings", "kind=wallet_drift", nil},
			{"severity error", "severity=error", []int{4, 0}},
			{"severity warning", "severity=warning", []int{3, 2, 1}},
			{"severity info", "severity=info", nil},
			{"payout_id", "payout_id=p-a", []int{1, 0}},
			{"unknown payout_id", "payout_id=p-z", nil},
			{"filters combine", "payout_id=p-a&severity=warning&status=acknowledged", []int{1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pg := list(t, tc.query)
				require.Equal(t, idsOf(tc.want...), findingIDs(pg))
				require.Empty(t, pg.NextCursor)
			})
		}

		t.Run("bad parameters are 422", func(t *testing.T) {
			requireInvalidQueries(t, srv, "/api/v1/findings", []badQuery{
				{"status=closed", "status"},
				{"kind=nope", "kind"},
				{"severity=critical", "severity"},
				{"limit=0", "limit"},
				{"limit=x", "limit"},
				{"cursor=%25%25", "cursor"},
			})
		})
	})
}

func TestAcknowledgeFinding(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		ctx := t.Context()
		store := srv.Store
		f := raise(t, store, models.KindSpeedMismatch, "p-ack", models.SeverityWarning, "p-ack")
		other := raise(t, store, models.KindStuckPayout, "p-ack", models.SeverityWarning, "p-ack")
		clock.Advance(time.Hour)
		ackURL := func(id string) string { return srv.URL + "/api/v1/findings/" + id + "/acknowledge" }

		for _, body := range []string{`{}`, `{"note":""}`, `{"note":"   "}`, `{"by":"alice"}`, `{"note":"` + strings.Repeat("x", 2001) + `"}`} {
			code, b := send(t, http.MethodPost, ackURL(f.ID), bearer, body)
			requireInvalid(t, code, b, "note", fmt.Sprintf("%.60s", body))
		}
		code, b := send(t, http.MethodPost, ackURL(f.ID), bearer, `not json`)
		require.Equal(t, http.StatusBadRequest, code, "%s", b)
		requireError(t, b, "bad_json")
		got, err := store.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingOpen, got.Status, "refused acknowledgements change nothing")
		require.Nil(t, got.AckNote)

		// The name comes from the token: a "by" is refused, naming the field.
		code, b = send(t, http.MethodPost, ackURL(f.ID), bearer, `{"note":"expected NACHA downgrade","by":"alice"}`)
		requireInvalid(t, code, b, "by", "by given")
		require.Contains(t, string(b), "the name of the API token")
		got, err = store.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingOpen, got.Status, "a refused acknowledgement changes nothing")

		code, b = send(t, http.MethodPost, ackURL(f.ID), bearer, `{"note":"expected NACHA downgrade"}`)
		require.Equal(t, http.StatusOK, code, "%s", b)
		requireUTCTimes(t, b)
		var view findingJSON
		mustJSON(t, b, &view)
		require.Equal(t, f.ID, view.ID)
		require.Equal(t, "acknowledged", view.Status)
		require.Equal(t, "expected NACHA downgrade", *view.Note)
		require.Equal(t, principal.APIToken, *view.AcknowledgedBy)
		require.Equal(t, apiT0.Add(time.Hour).Format(time.RFC3339), *view.AcknowledgedAt)
		require.Nil(t, view.ResolvedAt, "acknowledged is still unresolved")

		got, err = store.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingAcknowledged, got.Status)
		require.Equal(t, "expected NACHA downgrade", *got.AckNote)
		require.Equal(t, principal.APIToken, *got.AcknowledgedBy)
		require.True(t, apiT0.Add(time.Hour).Equal(*got.AcknowledgedAt))
		require.Nil(t, got.ResolvedAt)

		code, b = send(t, http.MethodPost, ackURL(other.ID), bearer, `{"note":"on it"}`)
		require.Equal(t, http.StatusOK, code, "%s", b)
		mustJSON(t, b, &view)
		require.NotNil(t, view.AcknowledgedBy, "who is recorded even when not given")
		require.NotEmpty(t, *view.AcknowledgedBy)

		code, b = send(t, http.MethodPost, ackURL(models.NewID()), bearer, `{"note":"x"}`)
		requireNotFound(t, code, b)

		resolved, err := store.FindingResolve(ctx, models.KindStuckPayout, "p-ack")
		require.NoError(t, err)
		require.True(t, resolved)
		before, err := store.FindingGet(ctx, other.ID)
		require.NoError(t, err)
		clock.Advance(time.Hour)
		code, b = send(t, http.MethodPost, ackURL(other.ID), bearer, `{"note":"too late"}`)
		require.Equal(t, http.StatusConflict, code, "%s", b)
		requireError(t, b, "finding_resolved")
		after, err := store.FindingGet(ctx, other.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingResolved, after.Status)
		require.Equal(t, *before.AckNote, *after.AckNote, "a resolved finding keeps its acknowledgement")
		require.Equal(t, *before.AcknowledgedBy, *after.AcknowledgedBy)
	})
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		base, pipe := startRouter(t, store, clock, testserver.APIToken)

		code, b := send(t, http.MethodGet, base+"/healthz", "", "")
		require.Equal(t, http.StatusOK, code, "%s", b)
		code, b = send(t, http.MethodGet, base+"/readyz", "", "")
		require.Equal(t, http.StatusOK, code, "%s", b)
		require.JSONEq(t, `{"status":"ready"}`, string(b))

		body := []byte(`{"eventType":"Withdraw Pending","category":"Withdraw","created":"2025-06-09T23:00:00.000Z",` +
			`"data":{"signature":"sig-metrics","userId":"u-m","total":{"cents":100,"currency":"USD"}}}`)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/webhooks/coinflow", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Coinflow-Signature", webhook.Sign([]byte(testserver.WebhookKey), clock.Now(), body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)

		metricsText := func() string {
			t.Helper()
			code, b := send(t, http.MethodGet, base+"/metrics", "", "")
			require.Equal(t, http.StatusOK, code)
			return string(b)
		}
		text := metricsText()
		require.Contains(t, text, `payoutd_webhooks_received_total{event_type="Withdraw Pending",outcome="stored"} 1`)
		require.Contains(t, text, "\npayoutd_inbox_backlog 1\n", "one event waits to be applied")

		n, err := pipe.Applier.Drain(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Contains(t, metricsText(), "\npayoutd_inbox_backlog 0\n")

		// Behind on migrations, and then with the database gone, the process
		// is alive but not ready.
		var version int
		require.NoError(t, store.DB().Raw("SELECT MAX(version) FROM schema_migrations").Scan(&version).Error)
		require.NoError(t, store.DB().Exec("DELETE FROM schema_migrations WHERE version = ?", version).Error)
		code, b = send(t, http.MethodGet, base+"/readyz", "", "")
		require.Equal(t, http.StatusServiceUnavailable, code, "%s", b)
		requireError(t, b, "migrations_pending")
		code, _ = send(t, http.MethodGet, base+"/healthz", "", "")
		require.Equal(t, http.StatusOK, code)

		require.NoError(t, store.Close())
		code, b = send(t, http.MethodGet, base+"/readyz", "", "")
		require.Equal(t, http.StatusServiceUnavailable, code, "%s", b)
		requireError(t, b, "database_unavailable")
		code, _ = send(t, http.MethodGet, base+"/healthz", "", "")
		require.Equal(t, http.StatusOK, code)
	})
}
