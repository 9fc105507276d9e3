package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// t0 is where every test server's clock starts: a whole second, so that the
// tolerance edges (|now - t| == 5m) are exact.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const tolerance = 5 * time.Minute

// eachServer runs fn on SQLite and on PostgreSQL, each with its own payoutd
// whose handler, applier and store all read one clock, starting at t0 (so
// that a retry scheduled by the applier is not already due for the store).
// key nil keeps testserver's default webhook key.
func eachServer(t *testing.T, key []byte, fn func(t *testing.T, s *testserver.Server)) {
	t.Helper()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		var cfg webhook.PipelineConfig
		cfg.Handler.Key = key
		fn(t, testserver.Start(t, store, testserver.Options{Clock: clock, Pipeline: cfg}))
	})
}

type request struct {
	body   []byte
	header http.Header
}

// answer is the endpoint's reply: status on a 200, the error otherwise.
type answer struct {
	code       int
	status     string
	errCode    string
	errMessage string
	raw        string
}

func (a answer) ack() string {
	if a.code == http.StatusOK {
		return a.status
	}
	return a.errCode
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var client = &http.Client{Timeout: 20 * time.Second}

func post(s *testserver.Server, r request) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/webhooks/coinflow", bytes.NewReader(r.body))
	if err != nil {
		return answer{}, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{code: resp.StatusCode, raw: string(b)}
	var out struct {
		Status string `json:"status"`
		Error  struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return a, fmt.Errorf("answer %d is not JSON: %q", resp.StatusCode, b)
	}
	a.status, a.errCode, a.errMessage = out.Status, out.Error.Code, out.Error.Message
	return a, nil
}

func send(t *testing.T, s *testserver.Server, r request) answer {
	t.Helper()
	a, err := post(s, r)
	require.NoError(t, err)
	return a
}

// macHex is Coinflow's v1, computed here rather than by package webhook.
func macHex(key, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func unixText(tm time.Time) string { return strconv.FormatInt(tm.Unix(), 10) }

// signAt signs with the default key whatever the server is configured with.
func signAt(tm time.Time, body []byte) string {
	return webhook.Sign([]byte(testserver.WebhookKey), tm, body)
}

func inboxCounts(t *testing.T, s *testserver.Server) map[models.InboxStatus]int64 {
	t.Helper()
	c, err := s.Store.InboxCounts(t.Context())
	require.NoError(t, err)
	return c
}

func inboxRows(t *testing.T, s *testserver.Server) []models.InboxEvent {
	t.Helper()
	var rows []models.InboxEvent
	require.NoError(t, s.Store.DB().WithContext(t.Context()).Order("id").Find(&rows).Error)
	return rows
}

func findingRows(t *testing.T, s *testserver.Server) []models.Finding {
	t.Helper()
	var rows []models.Finding
	require.NoError(t, s.Store.DB().WithContext(t.Context()).Order("first_seen_at, id").Find(&rows).Error)
	return rows
}

func findingCounts(t *testing.T, s *testserver.Server) map[models.FindingKind]int64 {
	t.Helper()
	out := map[models.FindingKind]int64{}
	for _, f := range findingRows(t, s) {
		out[f.Kind]++
	}
	return out
}

func countRows(t *testing.T, s *testserver.Server, table string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.Store.DB().WithContext(t.Context()).Raw("SELECT COUNT(*) FROM "+table).Scan(&n).Error)
	return n
}

func tableRows(t *testing.T, s *testserver.Server, table string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, s.Store.DB().WithContext(t.Context()).Raw("SELECT * FROM "+table).Scan(&rows).Error)
	return rows
}

func onlyPayout(t *testing.T, s *testserver.Server) (*models.Payout, []models.PayoutHistory) {
	t.Helper()
	ps, _, err := s.Store.PayoutList(t.Context(), models.PayoutFilter{})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	hist, err := s.Store.PayoutHistoryList(t.Context(), ps[0].ID)
	require.NoError(t, err)
	return &ps[0], hist
}

// requireCounts compares count maps, a nil want meaning "none at all".
func requireCounts[K comparable](t *testing.T, want, got map[K]int64, msgAndArgs ...any) {
	t.Helper()
	if want == nil {
		want = map[K]int64{}
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// receivedByOutcome sums payoutd_webhooks_received_total over event types.
func receivedByOutcome(t *testing.T, s *testserver.Server) map[string]float64 {
	t.Helper()
	mfs, err := s.Metrics.Registry.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "payoutd_webhooks_received_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// counterValue reads one payoutd_webhooks_received_total series. (The
// client's testutil would do, but it needs a module outside go.sum.)
func counterValue(t *testing.T, s *testserver.Server, eventType, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, s.Metrics.WebhooksReceived.WithLabelValues(eventType, outcome).Write(&m))
	return m.GetCounter().GetValue()
}

var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)

// requireCleanLogs: no log entry carries the webhook key, an email address
// or a raw body.
func requireCleanLogs(t *testing.T, s *testserver.Server, bodies [][]byte) {
	t.Helper()
	for _, e := range s.Logs.AllEntries() {
		var sb strings.Builder
		sb.WriteString(e.Message)
		for k, v := range e.Data {
			fmt.Fprintf(&sb, " %s=%v", k, v)
		}
		text := sb.String()
		require.NotContains(t, text, testserver.WebhookKey, "log entry leaks the webhook key")
		require.False(t, emailPattern.MatchString(text), "log entry has an email address: %q", text)
		for _, b := range bodies {
			if len(bytes.TrimSpace(b)) >= 16 {
				require.NotContains(t, text, string(b), "log entry has a raw body")
			}
		}
	}
}

// requireStoredBodies: every body answered "stored" is in the inbox, raw.
func requireStoredBodies(t *testing.T, s *testserver.Server, bodies [][]byte) {
	t.Helper()
	rows := inboxRows(t, s)
	for _, b := range bodies {
		found := false
		for _, r := range rows {
			found = found || bytes.Equal(r.Body, b)
		}
		require.True(t, found, "body of %d bytes answered stored but not in the inbox", len(b))
	}
}

// Bodies.

type bodyFunc func(t testing.TB) []byte

func fixture(name string) bodyFunc {
	return func(t testing.TB) []byte { return readFixture(t, name) }
}

func rawBody(s string) bodyFunc {
	return func(testing.TB) []byte { return []byte(s) }
}

// edited decodes a fixture (numbers kept exact), lets edit change it and
// encodes it compactly.
func edited(name string, edit func(ev, data map[string]any)) bodyFunc {
	return func(t testing.TB) []byte {
		dec := json.NewDecoder(bytes.NewReader(readFixture(t, name)))
		dec.UseNumber()
		var ev map[string]any
		require.NoError(t, dec.Decode(&ev))
		edit(ev, ev["data"].(map[string]any))
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		return b
	}
}

func setTotal(cents any, currency string) func(ev, data map[string]any) {
	return func(_, data map[string]any) { data["total"] = map[string]any{"cents": cents, "currency": currency} }
}

// padded is a fixture followed by spaces up to exactly size bytes.
func padded(name string, size int) bodyFunc {
	return func(t testing.TB) []byte {
		b := edited(name, func(_, _ map[string]any) {})(t)
		require.Less(t, len(b), size)
		return append(b, bytes.Repeat([]byte{' '}, size-len(b))...)
	}
}

// Requests.

type reqFunc func(t *testing.T, s *testserver.Server) request

func withHeader(body bodyFunc, header func(s *testserver.Server, b []byte) http.Header) reqFunc {
	return func(t *testing.T, s *testserver.Server) request {
		b := body(t)
		return request{body: b, header: header(s, b)}
	}
}

func signed(body bodyFunc) reqFunc {
	return withHeader(body, func(s *testserver.Server, b []byte) http.Header {
		return hdr("Content-Type", "application/json", "Coinflow-Signature", signAt(s.Clock.Now(), b))
	})
}

func authorized(body bodyFunc) reqFunc {
	return withHeader(body, func(_ *testserver.Server, _ []byte) http.Header {
		return hdr("Content-Type", "application/json", "Authorization", testserver.WebhookKey)
	})
}

// sigHeader signs the pending fixture with a header built from the clock's
// now: the builder gets t's text and the body.
func sigHeader(build func(now string, b []byte) string) reqFunc {
	return withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
		return hdr("Content-Type", "application/json", "Coinflow-Signature", build(unixText(s.Clock.Now()), b))
	})
}

// Cases.

const (
	pendingFx = "withdraw-pending.json"
	successFx = "withdraw-success.json"
	failureFx = "withdraw-failure.json"
	kycFx     = "kyc-created.json"
)

type step struct {
	advance time.Duration // moves the server clock before the request
	req     reqFunc
	code    int
	ack     string // the answer's status on a 200, its error code otherwise
}

type handlerCase struct {
	name        string
	key         []byte // nil: testserver's default key
	steps       []step
	inbox       map[models.InboxStatus]int64
	payouts     int64
	withdrawers int64
	findings    map[models.FindingKind]int64
	received    map[string]float64 // payoutd_webhooks_received_total by outcome
	check       func(t *testing.T, s *testserver.Server)
}

// rejected: 401, nothing stored, one unauthenticated count.
func rejected(name string, r reqFunc) handlerCase {
	return handlerCase{
		name:     name,
		steps:    []step{{req: r, code: http.StatusUnauthorized, ack: "unauthenticated"}},
		received: map[string]float64{"unauthenticated": 1},
	}
}

// storedOnce: one authentic request, answered 200 and stored; the cases
// below say what became of it.
func storedOnce(name string, r reqFunc) handlerCase {
	return handlerCase{name: name, steps: []step{stored(r)}, received: map[string]float64{"stored": 1}}
}

// appliedPending: the pending fixture (or an edit of it) stored and applied.
func appliedPending(name string, r reqFunc) handlerCase {
	c := storedOnce(name, r)
	c.inbox = map[models.InboxStatus]int64{models.InboxApplied: 1}
	c.payouts = 1
	c.check = func(t *testing.T, s *testserver.Server) {
		p, hist := onlyPayout(t, s)
		require.Equal(t, models.StatusPending, p.Status)
		require.Equal(t, models.Money{Cents: 25000, Currency: "USD"}, p.Amount)
		require.Len(t, hist, 1)
	}
	return c
}

// eurPending is the pending fixture as an IBAN payout: the amount in EUR,
// the merchant's fees in USD, the wallet's currency.
func eurPending(ev, data map[string]any) {
	setTotal(json.Number("25000"), "EUR")(ev, data)
	data["currency"] = "EUR"
	data["merchantFees"] = map[string]any{"cents": json.Number("100"), "currency": "USD"}
}

// foreignApplied: a foreign payout's pending event stored and applied, its
// amount in its currency and its merchant fees in USD.
func foreignApplied(name string, r reqFunc) handlerCase {
	c := storedOnce(name, r)
	c.inbox = map[models.InboxStatus]int64{models.InboxApplied: 1}
	c.payouts = 1
	c.check = func(t *testing.T, s *testserver.Server) {
		p, _ := onlyPayout(t, s)
		require.Equal(t, models.Money{Cents: 25000, Currency: "EUR"}, p.Amount)
		require.Equal(t, models.Money{Cents: 100, Currency: "USD"}, p.MerchantFees)
	}
	return c
}

// unprocessable: authentic, stored raw, answered 200, raised as a finding,
// never applied.
func unprocessable(name string, r reqFunc) handlerCase {
	c := storedOnce(name, r)
	c.inbox = map[models.InboxStatus]int64{models.InboxUnprocessable: 1}
	c.findings = map[models.FindingKind]int64{models.KindWebhookUnprocessable: 1}
	return c
}

// ignored: an authentic event of an untracked type, stored and counted only.
func ignored(name string, r reqFunc) handlerCase {
	c := storedOnce(name, r)
	c.inbox = map[models.InboxStatus]int64{models.InboxIgnored: 1}
	return c
}

// terminalConflict: a success and a later-dated failure of one payout,
// sent in the order given, both applied: the payout ends failed and a
// terminal status_mismatch finding is raised. check looks at the history
// the second event left.
func terminalConflict(name string, first, second bodyFunc, check func(t *testing.T, hist []models.PayoutHistory)) handlerCase {
	return handlerCase{
		name:     name,
		steps:    []step{stored(signed(first)), stored(signed(second))},
		inbox:    map[models.InboxStatus]int64{models.InboxApplied: 2},
		payouts:  1,
		findings: map[models.FindingKind]int64{models.KindStatusMismatch: 1},
		received: map[string]float64{"stored": 2},
		check: func(t *testing.T, s *testserver.Server) {
			p, hist := onlyPayout(t, s)
			require.Equal(t, models.StatusFailed, p.Status)
			require.Len(t, hist, 2)
			check(t, hist)
			f := findingRows(t, s)[0]
			require.Equal(t, "terminal_status_changed", f.Details["reason"])
			require.Equal(t, models.SeverityError, f.Severity)
			require.Equal(t, p.ID, deref(f.PayoutID))
		},
	}
}

func stored(r reqFunc) step    { return step{req: r, code: http.StatusOK, ack: "stored"} }
func duplicate(r reqFunc) step { return step{req: r, code: http.StatusOK, ack: "duplicate"} }

func handlerCases() []handlerCase {
	key := testserver.WebhookKey
	// The success fixture's payout failing, by an event dated after it.
	laterFailure := edited(successFx, func(ev, _ map[string]any) {
		ev["eventType"] = "Withdraw Failure"
		ev["created"] = "2025-06-03T08:00:00.000Z"
	})
	otherBody := []byte(`{"eventType":"Withdraw Success"}`)
	return []handlerCase{
		// Authentication.
		rejected("no auth headers", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Content-Type", "application/json")
		})),
		rejected("wrong authorization", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Authorization", "not-the-key")
		})),
		rejected("authorization with bearer prefix", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Authorization", "Bearer "+key)
		})),
		rejected("authorization is a prefix of the key", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Authorization", key[:len(key)-1])
		})),
		rejected("authorization in upper case", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Authorization", strings.ToUpper(key))
		})),
		rejected("signature without t", sigHeader(func(now string, b []byte) string {
			return "v1=" + macHex(key, now, b)
		})),
		rejected("signature without v1", sigHeader(func(now string, _ []byte) string {
			return "t=" + now
		})),
		rejected("signature v1 not hex", sigHeader(func(now string, _ []byte) string {
			return "t=" + now + ",v1=" + strings.Repeat("zq", 32)
		})),
		rejected("signature v1 too short", sigHeader(func(now string, b []byte) string {
			return "t=" + now + ",v1=" + macHex(key, now, b)[:62]
		})),
		rejected("signature v1 too long", sigHeader(func(now string, b []byte) string {
			return "t=" + now + ",v1=" + macHex(key, now, b) + "00"
		})),
		rejected("signature v1 empty", sigHeader(func(now string, _ []byte) string {
			return "t=" + now + ",v1="
		})),
		rejected("signature t with plus sign", sigHeader(func(now string, b []byte) string {
			return "t=+" + now + ",v1=" + macHex(key, "+"+now, b)
		})),
		rejected("signature t negative", sigHeader(func(now string, b []byte) string {
			return "t=-" + now + ",v1=" + macHex(key, "-"+now, b)
		})),
		rejected("signature t with letters", sigHeader(func(now string, b []byte) string {
			return "t=" + now + "x,v1=" + macHex(key, now+"x", b)
		})),
		rejected("signature t decimal", sigHeader(func(now string, b []byte) string {
			return "t=" + now + ".0,v1=" + macHex(key, now+".0", b)
		})),
		rejected("signature t in milliseconds", sigHeader(func(now string, b []byte) string {
			return "t=" + now + "000,v1=" + macHex(key, now+"000", b)
		})),
		rejected("signature t duplicated", sigHeader(func(now string, b []byte) string {
			return "t=" + now + ",t=" + now + ",v1=" + macHex(key, now, b)
		})),
		rejected("signature parts separated by semicolons", sigHeader(func(now string, b []byte) string {
			return "t=" + now + ";v1=" + macHex(key, now, b)
		})),
		rejected("signature header empty with correct authorization", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Coinflow-Signature", "", "Authorization", key)
		})),
		rejected("two valid signature headers", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			sig := signAt(s.Clock.Now(), b)
			return hdr("Coinflow-Signature", sig, "Coinflow-Signature", sig)
		})),
		rejected("signature with wrong key", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", webhook.Sign([]byte("another-validation-key"), s.Clock.Now(), b))
		})),
		rejected("signature older than tolerance", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now().Add(-tolerance-time.Second), b))
		})),
		rejected("signature newer than tolerance", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now().Add(tolerance+time.Second), b))
		})),
		rejected("body changed after signing", func(t *testing.T, s *testserver.Server) request {
			b := readFixture(t, pendingFx)
			sig := signAt(s.Clock.Now(), b)
			changed := bytes.Replace(b, []byte(`"cents": 25000`), []byte(`"cents": 25001`), 1)
			require.NotEqual(t, b, changed)
			return request{body: changed, header: hdr("Coinflow-Signature", sig)}
		}),
		rejected("bad signature with correct authorization", withHeader(fixture(pendingFx), func(s *testserver.Server, _ []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now(), otherBody), "Authorization", key)
		})),
		appliedPending("signature at the past tolerance edge", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now().Add(-tolerance), b))
		})),
		appliedPending("signature at the future tolerance edge", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now().Add(tolerance), b))
		})),
		appliedPending("valid signature with wrong authorization", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now(), b), "Authorization", "Bearer "+key)
		})),
		appliedPending("signature rotation: second v1 matches", sigHeader(func(now string, b []byte) string {
			return "t=" + now + ",v1=" + macHex("old-validation-key", now, b) + ",v1=" + macHex(key, now, b)
		})),
		appliedPending("signature with spaces and unknown keys", sigHeader(func(now string, b []byte) string {
			return "v0=dead , t=" + now + " ,\tv1=" + macHex(key, now, b) + ", scheme=hmac"
		})),

		// Size.
		{
			name:     "body over 1 MiB",
			steps:    []step{{req: signed(padded(pendingFx, webhook.MaxBodyBytes+1)), code: http.StatusRequestEntityTooLarge, ack: "too_large"}},
			received: map[string]float64{"too_large": 1},
		},
		appliedPending("body of exactly 1 MiB", signed(padded(pendingFx, webhook.MaxBodyBytes))),

		// Bodies that are not a usable event.
		unprocessable("empty body", authorized(rawBody(""))),
		unprocessable("empty body signed", signed(rawBody(""))),
		unprocessable("invalid JSON", signed(rawBody(`{"eventType":"Withdraw Pending","category":`))),
		unprocessable("JSON array", signed(func(t testing.TB) []byte {
			return append(append([]byte("["), readFixture(t, pendingFx)...), ']')
		})),
		unprocessable("JSON string", signed(rawBody(`"Withdraw Pending"`))),
		unprocessable("JSON null", signed(rawBody(`null`))),
		unprocessable("invalid UTF-8", signed(func(t testing.TB) []byte {
			b := bytes.Replace(readFixture(t, pendingFx), []byte("u-1001"), []byte("u-\xff\xfe1001"), 1)
			require.Contains(t, string(b), "\xff")
			return b
		})),
		unprocessable("object without eventType", signed(rawBody(`{"category":"Withdraw","created":"2025-06-02T14:03:12.006Z","data":{}}`))),
		unprocessable("data not an object", signed(edited(pendingFx, func(ev, _ map[string]any) { ev["data"] = "65ATtSdq" }))),
		unprocessable("negative cents", signed(edited(pendingFx, setTotal(json.Number("-25000"), "USD")))),
		unprocessable("non-integer cents", signed(edited(pendingFx, setTotal(json.Number("1.5"), "USD")))),
		unprocessable("cents in exponent form", signed(edited(pendingFx, setTotal(json.Number("1e3"), "USD")))),
		unprocessable("cents beyond int64", signed(edited(pendingFx, setTotal(json.Number("9223372036854775808"), "USD")))),
		unprocessable("cents as a JSON string", signed(edited(pendingFx, setTotal("25000", "USD")))),
		unprocessable("negative fee", signed(edited(pendingFx, func(_, data map[string]any) {
			data["merchantFees"] = map[string]any{"cents": json.Number("-150"), "currency": "USD"}
		}))),
		unprocessable("fee in neither the payout's currency nor USD", signed(edited(pendingFx, func(_, data map[string]any) {
			data["merchantFees"] = map[string]any{"cents": json.Number("150"), "currency": "EUR"}
		}))),
		unprocessable("fees of one group in two currencies", signed(edited(pendingFx, func(ev, data map[string]any) {
			eurPending(ev, data)
			data["merchantGasFees"] = map[string]any{"cents": json.Number("3"), "currency": "EUR"}
		}))),
		foreignApplied("EUR payout with merchant fees in USD", signed(edited(pendingFx, eurPending))),
		unprocessable("unknown currency", signed(edited(pendingFx, func(ev, data map[string]any) {
			setTotal(json.Number("25000"), "XYZ")(ev, data)
			data["currency"] = "XYZ"
		}))),
		unprocessable("missing data.signature", signed(edited(pendingFx, func(_, data map[string]any) { delete(data, "signature") }))),
		unprocessable("missing data.total", signed(edited(pendingFx, func(_, data map[string]any) { delete(data, "total") }))),
		unprocessable("missing created", signed(edited(pendingFx, func(ev, _ map[string]any) { delete(ev, "created") }))),
		unprocessable("created not RFC 3339", signed(edited(pendingFx, func(ev, _ map[string]any) { ev["created"] = "2025-06-02 14:03:12" }))),
		unprocessable("KYC without wallet", signed(edited(kycFx, func(_, data map[string]any) { delete(data, "wallet") }))),

		// Content types never refuse an authentic request.
		appliedPending("no content type", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Coinflow-Signature", signAt(s.Clock.Now(), b))
		})),
		appliedPending("text/plain content type", withHeader(fixture(pendingFx), func(s *testserver.Server, b []byte) http.Header {
			return hdr("Content-Type", "text/plain; charset=latin1", "Coinflow-Signature", signAt(s.Clock.Now(), b))
		})),
		appliedPending("form content type", withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header {
			return hdr("Content-Type", "application/x-www-form-urlencoded", "Authorization", key)
		})),

		// Untracked types are kept and counted only.
		ignored("unknown event type", signed(edited(pendingFx, func(ev, _ map[string]any) { ev["eventType"] = "Wire Failure" }))),
		ignored("checkout purchase event", signed(rawBody(
			`{"eventType":"Settled","category":"Purchase","created":"2025-06-02T14:03:12.006Z",`+
				`"data":{"paymentId":"pay-1","subtotal":{"cents":1000,"currency":"USD"},"customerEmail":"dave@example.com"}}`))),

		// Delivery semantics.
		{
			name:     "duplicate delivery",
			steps:    []step{stored(signed(fixture(pendingFx))), duplicate(signed(fixture(pendingFx)))},
			inbox:    map[models.InboxStatus]int64{models.InboxApplied: 1},
			payouts:  1,
			received: map[string]float64{"stored": 1, "duplicate": 1},
			check: func(t *testing.T, s *testserver.Server) {
				_, hist := onlyPayout(t, s)
				require.Len(t, hist, 1, "applied once")
			},
		},
		{
			name: "re-signed with a new timestamp",
			steps: []step{
				stored(signed(fixture(pendingFx))),
				{advance: 10 * time.Minute, req: signed(fixture(pendingFx)), code: http.StatusOK, ack: "duplicate"},
			},
			inbox:    map[models.InboxStatus]int64{models.InboxApplied: 1},
			payouts:  1,
			received: map[string]float64{"stored": 1, "duplicate": 1},
		},
		{
			name:     "same event re-serialized",
			steps:    []step{stored(signed(fixture(pendingFx))), duplicate(signed(edited(pendingFx, func(_, _ map[string]any) {})))},
			inbox:    map[models.InboxStatus]int64{models.InboxApplied: 1},
			payouts:  1,
			received: map[string]float64{"stored": 1, "duplicate": 1},
		},
		{
			name:        "same event by the other scheme",
			steps:       []step{stored(authorized(fixture(kycFx))), duplicate(signed(fixture(kycFx)))},
			inbox:       map[models.InboxStatus]int64{models.InboxApplied: 1},
			withdrawers: 1,
			received:    map[string]float64{"stored": 1, "duplicate": 1},
		},
		{
			// A redelivery under one event's identity that says another
			// amount is kept beside the first copy, and finance is shown.
			name: "redelivery with another amount",
			steps: []step{
				stored(signed(fixture(pendingFx))),
				stored(signed(edited(pendingFx, setTotal(json.Number("26000"), "USD")))),
				duplicate(signed(edited(pendingFx, setTotal(json.Number("26000"), "USD")))),
				duplicate(signed(fixture(pendingFx))),
			},
			inbox:    map[models.InboxStatus]int64{models.InboxApplied: 2},
			payouts:  1,
			findings: map[models.FindingKind]int64{models.KindAmountMismatch: 1},
			received: map[string]float64{"stored": 2, "duplicate": 2},
			check: func(t *testing.T, s *testserver.Server) {
				p, hist := onlyPayout(t, s)
				require.Equal(t, models.StatusPending, p.Status)
				require.Len(t, hist, 2, "each copy applied once")
				f := findingRows(t, s)[0]
				require.Equal(t, "conflicting_redelivery", f.Details["reason"])
				require.Equal(t, []any{"total"}, f.Details["differs"])
				require.Equal(t, models.SeverityError, f.Severity)
				require.Equal(t, p.ID, deref(f.PayoutID))
				var evs []models.InboxEvent
				require.NoError(t, s.Store.DB().Order("id").Find(&evs).Error)
				require.Len(t, evs, 2)
				require.Nil(t, evs[0].ConflictsWith)
				require.Equal(t, evs[0].ID, *evs[1].ConflictsWith)
			},
		},
		{
			name:     "late pending after success",
			steps:    []step{stored(signed(fixture(successFx))), stored(signed(fixture(pendingFx)))},
			inbox:    map[models.InboxStatus]int64{models.InboxApplied: 2},
			payouts:  1,
			received: map[string]float64{"stored": 2},
			check: func(t *testing.T, s *testserver.Server) {
				p, hist := onlyPayout(t, s)
				require.Equal(t, models.StatusCompleted, p.Status)
				require.Len(t, hist, 2)
				require.True(t, hist[0].Applied)
				require.Equal(t, "completed", hist[0].ToStatus)
				require.False(t, hist[1].Applied)
				require.Equal(t, models.ReasonStale, hist[1].Reason)
				require.Equal(t, "pending", hist[1].ToStatus)
			},
		},
		terminalConflict("failure after success with newer created", fixture(successFx), laterFailure, func(t *testing.T, hist []models.PayoutHistory) {
			require.True(t, hist[1].Applied)
			require.Equal(t, models.ReasonTerminalChanged, hist[1].Reason)
		}),
		terminalConflict("late success after failure", laterFailure, fixture(successFx), func(t *testing.T, hist []models.PayoutHistory) {
			require.False(t, hist[1].Applied)
			require.Equal(t, models.ReasonStale, hist[1].Reason)
		}),
		{
			name: "event for an unknown withdrawal",
			steps: []step{
				stored(signed(fixture(failureFx))),
				stored(signed(edited(pendingFx, func(_, data map[string]any) {
					data["signature"] = "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi"
					delete(data, "idempotencyKey")
				}))),
			},
			inbox:    map[models.InboxStatus]int64{models.InboxApplied: 2},
			payouts:  2,
			received: map[string]float64{"stored": 2},
			check: func(t *testing.T, s *testserver.Server) {
				ps, _, err := s.Store.PayoutList(t.Context(), models.PayoutFilter{Transaction: "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi"})
				require.NoError(t, err)
				require.Len(t, ps, 1)
				require.Equal(t, models.OriginDiscovered, ps[0].Source)
				require.Equal(t, models.StatusPending, ps[0].Status)
				require.Nil(t, ps[0].IdempotencyKey)
				require.Equal(t, "u-1001", ps[0].UserID)
			},
		},
		{
			name:        "KYC email with a non-ASCII first letter",
			steps:       []step{stored(signed(edited(kycFx, func(_, data map[string]any) { data["email"] = "élodie@example.com" })))},
			inbox:       map[models.InboxStatus]int64{models.InboxApplied: 1},
			withdrawers: 1,
			received:    map[string]float64{"stored": 1},
			check: func(t *testing.T, s *testserver.Server) {
				w, err := s.Store.WithdrawerGet(t.Context(), "u-1002")
				require.NoError(t, err)
				require.Equal(t, "é***@example.com", w.EmailMasked)
			},
		},

		// Configuration.
		{
			name: "webhook key not configured",
			key:  []byte{},
			steps: []step{
				{req: signed(fixture(pendingFx)), code: http.StatusServiceUnavailable, ack: "not_configured"},
				{req: authorized(fixture(pendingFx)), code: http.StatusServiceUnavailable, ack: "not_configured"},
				{req: withHeader(fixture(pendingFx), func(_ *testserver.Server, _ []byte) http.Header { return hdr("Authorization", "") }),
					code: http.StatusServiceUnavailable, ack: "not_configured"},
			},
			received: map[string]float64{"not_configured": 3},
		},
	}
}

func TestWebhookRequests(t *testing.T) {
	t.Parallel()
	cases := handlerCases()
	require.GreaterOrEqual(t, len(cases), 30)
	names := map[string]bool{}
	for _, tc := range cases {
		require.False(t, names[tc.name], "duplicate case %q", tc.name)
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachServer(t, tc.key, func(t *testing.T, s *testserver.Server) {
				var sent, storedBodies [][]byte
				unauthenticated := 0
				for i, st := range tc.steps {
					s.Clock.Advance(st.advance)
					r := st.req(t, s)
					got := send(t, s, r)
					require.Equal(t, st.code, got.code, "step %d: %s", i, got.raw)
					require.Equal(t, st.ack, got.ack(), "step %d: %s", i, got.raw)
					switch {
					case got.code == http.StatusOK && got.status == "stored":
						storedBodies = append(storedBodies, r.body)
					case got.code == http.StatusUnauthorized:
						unauthenticated++
					case got.code == http.StatusServiceUnavailable && tc.key != nil:
						require.Equal(t, "webhook key not configured", got.errMessage)
					}
					sent = append(sent, r.body)
					s.Drain(t)
				}

				requireCounts(t, tc.inbox, inboxCounts(t, s), "inbox_events by status")
				require.Equal(t, tc.payouts, countRows(t, s, "payouts"), "payouts")
				require.Equal(t, tc.withdrawers, countRows(t, s, "withdrawers"), "withdrawers")
				requireCounts(t, tc.findings, findingCounts(t, s), "findings by kind")
				want := tc.received
				if want == nil {
					want = map[string]float64{}
				}
				require.Equal(t, want, receivedByOutcome(t, s), "payoutd_webhooks_received_total by outcome")
				require.Equal(t, float64(unauthenticated), counterValue(t, s, "none", "unauthenticated"))
				requireStoredBodies(t, s, storedBodies)
				requireInboxOutcomes(t, s)
				if unauthenticated > 0 {
					requireRejectionLogged(t, s, unauthenticated)
				}
				requireCleanLogs(t, s, sent)
				if tc.check != nil {
					tc.check(t, s)
				}
			})
		})
	}
}

// requireInboxOutcomes ties each finished inbox row to its consequences:
// an unprocessable one has exactly one webhook_unprocessable finding naming
// it and a reason; an ignored one has neither; nothing is left pending.
func requireInboxOutcomes(t *testing.T, s *testserver.Server) {
	t.Helper()
	findings := findingRows(t, s)
	for _, ev := range inboxRows(t, s) {
		var mine []models.Finding
		for _, f := range findings {
			if f.Kind == models.KindWebhookUnprocessable && f.Subject == "inbox:"+strconv.FormatInt(ev.ID, 10) {
				mine = append(mine, f)
			}
		}
		require.NotEqual(t, models.InboxPending, ev.Status, "inbox event %d was never finished", ev.ID)
		require.NotNil(t, ev.ProcessedAt, "inbox event %d", ev.ID)
		switch ev.Status {
		case models.InboxUnprocessable:
			require.Len(t, mine, 1, "inbox event %d", ev.ID)
			f := mine[0]
			require.Equal(t, models.SeverityWarning, f.Severity)
			require.Equal(t, models.FindingOpen, f.Status)
			require.Nil(t, f.PayoutID)
			require.EqualValues(t, ev.ID, f.Details["inbox_event_id"])
			reason, _ := f.Details["reason"].(string)
			require.NotEmpty(t, reason)
			require.Equal(t, reason, deref(ev.LastError))
		case models.InboxIgnored, models.InboxApplied:
			require.Empty(t, mine, "inbox event %d", ev.ID)
			require.Nil(t, ev.LastError, "inbox event %d", ev.ID)
		}
	}
}

// requireRejectionLogged: every 401 leaves a warning behind.
func requireRejectionLogged(t *testing.T, s *testserver.Server, n int) {
	t.Helper()
	warnings := 0
	for _, e := range s.Logs.AllEntries() {
		if e.Level == logrus.WarnLevel && e.Data["component"] == "webhook" {
			warnings++
		}
	}
	require.Equal(t, n, warnings, "warnings from the webhook endpoint")
}

func TestConcurrentDuplicatesAreStoredOnce(t *testing.T) {
	t.Parallel()
	eachServer(t, nil, func(t *testing.T, s *testserver.Server) {
		body := readFixture(t, successFx)
		r := request{body: body, header: hdr("Coinflow-Signature", s.Sign(body))}
		const n = 16
		answers := make([]answer, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { answers[i], errs[i] = post(s, r) })
		}
		wg.Wait()
		byStatus := map[string]int{}
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, http.StatusOK, answers[i].code, answers[i].raw)
			byStatus[answers[i].status]++
		}
		require.Equal(t, map[string]int{"stored": 1, "duplicate": n - 1}, byStatus)
		require.Equal(t, 1, s.Drain(t))
		requireCounts(t, map[models.InboxStatus]int64{models.InboxApplied: 1}, inboxCounts(t, s))
		p, hist := onlyPayout(t, s)
		require.Equal(t, models.StatusCompleted, p.Status)
		require.Len(t, hist, 1)
	})
}

func TestDatabaseUnavailableAnswers503(t *testing.T) {
	t.Parallel()
	eachServer(t, nil, func(t *testing.T, s *testserver.Server) {
		require.NoError(t, s.Store.Close())
		body := readFixture(t, pendingFx)
		got := send(t, s, request{body: body, header: hdr("Coinflow-Signature", s.Sign(body))})
		require.Equal(t, http.StatusServiceUnavailable, got.code, "never 200 without a durable write: %s", got.raw)
		require.Equal(t, "unavailable", got.errCode)
		require.Equal(t, map[string]float64{"unavailable": 1}, receivedByOutcome(t, s))
		requireCleanLogs(t, s, [][]byte{body})
	})
}
