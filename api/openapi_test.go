package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/internal/apispec"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

func TestOpenAPIDocumentValidates(t *testing.T) {
	t.Parallel()
	ch, err := apispec.New() // loads and validates
	require.NoError(t, err)
	require.Equal(t, "3.0.3", ch.Doc.OpenAPI)
	require.NotEmpty(t, ch.Doc.Servers)
	for _, s := range ch.Doc.Servers {
		require.True(t, strings.HasPrefix(s.URL, "/"), "server %q is relative, so the document is right wherever payoutd runs", s.URL)
	}
	// Every operation answers with a described body or none, and every
	// answer carries the request id header.
	for path, item := range ch.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			require.NotEmpty(t, op.OperationID, "%s %s", method, path)
			for status, resp := range op.Responses.Map() {
				require.Contains(t, resp.Value.Headers, "X-Request-Id", "%s %s %s", method, path, status)
			}
		}
	}
}

// TestOpenAPIServedWithoutToken: the document is served as JSON to anyone,
// and it is the embedded one.
func TestOpenAPIServedWithoutToken(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, dbtest.SQLite(t, dbtest.Options{}), testserver.Options{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/openapi.json", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var served map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&served))

	want, err := api.OpenAPI()
	require.NoError(t, err)
	var embedded map[string]any
	require.NoError(t, json.Unmarshal(want, &embedded))
	require.Equal(t, embedded, served)
	doc, err := openapi3.NewLoader().LoadFromData(want)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	require.NotNil(t, doc.Paths.Find("/api/v1/payouts"))
}

// TestOpenAPIDescribesEveryRoute walks the routes gin serves: every route
// under /api/v1, the health endpoints and the webhook are in the document
// with their methods, and every operation of the document is served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	gin.SetMode(gin.ReleaseMode)
	logger, _ := logtest.NewNullLogger()
	engine := api.NewRouter(api.Deps{Store: store, Metrics: metrics.New(), Log: logger.WithField("component", "http")})

	described := func(path string) bool {
		return strings.HasPrefix(path, "/api/v1/") || slices.Contains([]string{"/healthz", "/readyz", "/webhooks/coinflow"}, path)
	}
	served := map[string]bool{}
	for _, r := range engine.Routes() {
		if !described(r.Path) {
			continue
		}
		// gin writes a parameter :id, OpenAPI {id}.
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if name, ok := strings.CutPrefix(p, ":"); ok {
				parts[i] = "{" + name + "}"
			}
		}
		served[r.Method+" "+strings.Join(parts, "/")] = true
	}
	require.Contains(t, served, "GET /api/v1/payouts/{id}", "the walk sees the API's routes")

	ch, err := apispec.New()
	require.NoError(t, err)
	inDoc := map[string]bool{}
	for path, item := range ch.Doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc[method+" "+path] = true
		}
	}
	for route := range served {
		require.True(t, inDoc[route], "%s is served but not in api/openapi.yaml", route)
	}
	for op := range inDoc {
		require.True(t, served[op], "%s is in api/openapi.yaml but not served", op)
	}
}

// reports collects what the checker reports, as a test would.
type reports struct {
	mu   sync.Mutex
	msgs []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *reports) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// TestAPISpecCheckerRefusesWrongAnswers: the checker every API test goes
// through fails a test whose answer differs from the document, naming the
// path, the status and what differs, and lets right answers through.
func TestAPISpecCheckerRefusesWrongAnswers(t *testing.T) {
	t.Parallel()
	const payout = `{"id":"p-1","idempotency_key":null,"user_id":"u-1","amount":{"cents":2500,"currency":"USD"},
		"requested_speed":"asap","effective_speed":null,"status":"pending","status_detail":null,"return_status":null,
		"coinflow":{"transaction":null,"transfer_id":null},"fees":{"user":{"cents":0,"currency":""},"merchant":{"cents":0,"currency":""}},
		"expected_delivery_at":null,"created_at":"2025-06-01T10:00:00Z","updated_at":"2025-06-01T10:00:00Z","source":"api"}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		contentType, body  string
		wrong              string // "" when the answer conforms, else what the report must say
	}{
		{"a conforming page", "GET", "/api/v1/payouts", 200, "application/json", `{"payouts":[` + payout + `],"next_cursor":""}`, ""},
		{"a conforming error", "GET", "/api/v1/payouts/p-9", 404, "application/json", `{"error":{"code":"not_found","message":"payout not found"}}`, ""},
		{"a conforming 204", "DELETE", "/api/v1/withdrawers/u-1/destinations/bnk_1", 204, "", "", ""},
		{"an undescribed route is not checked", "GET", "/metrics", 200, "text/plain", "# HELP", ""},
		{"a dashboard page is not checked", "GET", "/findings", 200, "text/html", "<html>", ""},
		{"a list that is not a list", "GET", "/api/v1/payouts", 200, "application/json", `{"payouts":"none","next_cursor":""}`, "payouts"},
		{"a missing member", "GET", "/api/v1/payouts", 200, "application/json", `{"payouts":[]}`, "next_cursor"},
		{"an undescribed member", "GET", "/api/v1/payouts/p-1", 200, "application/json", strings.Replace(payout, `"id"`, `"secret":"x","id"`, 1), "secret"},
		{"a float amount", "GET", "/api/v1/payouts/p-1", 200, "application/json", strings.Replace(payout, `"cents":2500`, `"cents":25.5`, 1), "cents"},
		{"a status outside the enum", "GET", "/api/v1/payouts/p-1", 200, "application/json", strings.Replace(payout, `"pending"`, `"paid"`, 1), "status"},
		{"an undescribed status", "GET", "/api/v1/payouts", 418, "application/json", `{"error":{"code":"teapot","message":"no"}}`, "status is not supported"},
		{"an error not in the envelope", "GET", "/api/v1/payouts/p-9", 404, "application/json", `{"message":"payout not found"}`, "error"},
		{"gin's text for an error", "GET", "/api/v1/findings", 422, "text/plain", `invalid`, "text/plain"},
		{"a 204 with a body", "DELETE", "/api/v1/withdrawers/u-1/destinations/bnk_1", 204, "application/json", `{}`, "no body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			answer := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			got := &reports{}
			srv := httptest.NewServer(apispec.Handler(got, answer))
			defer srv.Close()
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, tc.status, resp.StatusCode, "the answer reaches the client unchanged")
			srv.Close() // waits for the handler, and so for its check

			msgs := got.all()
			if tc.wrong == "" {
				require.Empty(t, msgs)
				return
			}
			require.Len(t, msgs, 1)
			t.Log(msgs[0])
			for _, want := range []string{tc.method + " " + tc.path, "answered " + strconv.Itoa(tc.status), tc.wrong} {
				require.Contains(t, msgs[0], want)
			}
		})
	}
}

// TestOpenAPIEnumsFollowTheCode: each enum of the document lists exactly
// the values the code knows, so a new status, kind or speed in the code
// fails here until the document has it.
func TestOpenAPIEnumsFollowTheCode(t *testing.T) {
	t.Parallel()
	ch, err := apispec.New()
	require.NoError(t, err)
	enum := func(schema string) []string {
		t.Helper()
		ref, ok := ch.Doc.Components.Schemas[schema]
		require.True(t, ok, "schema %s", schema)
		return enumOf(t, ref.Value)
	}
	var kinds []string
	for _, k := range models.FindingKinds() {
		kinds = append(kinds, string(k))
	}
	for _, tc := range []struct {
		where string
		got   []string
		want  []string
	}{
		{"FindingKind", enum("FindingKind"), kinds},
		{"Speed", enum("Speed"), rail.Speeds()},
		{"PayoutStatus", enum("PayoutStatus"), asStrings(models.StatusRequested, models.StatusUnknown, models.StatusPending,
			models.StatusInReview, models.StatusCompleted, models.StatusFailed)},
		{"Severity", enum("Severity"), asStrings(models.SeverityInfo, models.SeverityWarning, models.SeverityError)},
		{"FindingStatus", enum("FindingStatus"), asStrings(models.FindingOpen, models.FindingAcknowledged, models.FindingResolved)},
		{"EventState", enum("EventState"), asStrings(models.InboxApplied, models.InboxPending, models.InboxParked,
			models.InboxIgnored, models.InboxUnprocessable)},
		{"VerificationStatus", enum("VerificationStatus"), asStrings(models.VerificationPending, models.VerificationPartialApproval,
			models.VerificationApproved, models.VerificationRejected, models.VerificationExpired)},
		{"EvidenceSource", enum("EvidenceSource"), asStrings(models.SourceWebhook, models.SourceAPI, models.SourceReconcile)},
		{"Run.outcome", enumOf(t, ch.Doc.Components.Schemas["Run"].Value.Properties["outcome"].Value),
			[]string{models.RunRunning, models.RunOK, models.RunPartial, models.RunFailed}},
		{"Payout.source", enumOf(t, ch.Doc.Components.Schemas["Payout"].Value.Properties["source"].Value),
			asStrings(models.OriginAPI, models.OriginDiscovered)},
		{"Event.auth.method", enumOf(t, ch.Doc.Components.Schemas["Event"].Value.Properties["auth"].Value.Properties["method"].Value),
			[]string{models.AuthSignature, models.AuthAuthorization}},
		{"Event.auth.key", enumOf(t, ch.Doc.Components.Schemas["Event"].Value.Properties["auth"].Value.Properties["key"].Value),
			[]string{models.AuthKeyCurrent, models.AuthKeyPrevious}},
	} {
		require.ElementsMatch(t, tc.want, tc.got, tc.where)
	}
	for _, s := range enum("PayoutStatus") {
		require.True(t, models.PayoutStatus(s).Valid(), s)
	}
	for _, s := range enum("EventState") {
		require.True(t, models.InboxStatusValid(s), s)
	}
}

// enumOf is a schema's enum without the null a nullable enum lists.
func enumOf(t *testing.T, s *openapi3.Schema) []string {
	t.Helper()
	require.NotEmpty(t, s.Enum)
	var out []string
	for _, v := range s.Enum {
		if v != nil {
			out = append(out, v.(string))
		}
	}
	return out
}

func asStrings[S ~string](vs ...S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
