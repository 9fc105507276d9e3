package alert

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// TestLogsAndOutboxCarryNoSecrets makes every sink fail in the way most
// likely to quote its URL or key (an echoing error body, a refused
// connection) and checks that no log line and no stored row holds them.
func TestLogsAndOutboxCarryNoSecrets(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		const (
			slackToken = "T000/B000/XoXbSlackSecret"
			hookToken  = "HookSecretToken42"
			routingKey = "R0UT1NGKEYSECRET"
		)
		echo := func(status int) *receiver {
			return newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				body := make([]byte, 0, 128)
				body = append(body, "rejected "...)
				body = append(body, r.URL.RequestURI()...)
				var ev map[string]any
				if json.NewDecoder(r.Body).Decode(&ev) == nil {
					if k, ok := ev["routing_key"].(string); ok {
						body = append(body, " key="+k...)
					}
				}
				w.WriteHeader(status)
				_, _ = w.Write(body)
			})
		}
		slack := echo(http.StatusForbidden)
		pd := echo(http.StatusBadRequest)
		gone := httptest.NewServer(http.NotFoundHandler())
		goneURL := gone.URL
		gone.Close() // connection refused: *url.Error quotes the URL

		svc, logs, _ := newService(t, store, Config{Dispatcher: DispatcherConfig{
			SlackWebhookURL:     slack.URL() + "/services/" + slackToken,
			WebhookURL:          goneURL + "/hook?token=" + hookToken,
			PagerDutyRoutingKey: routingKey,
			PagerDutyURL:        pd.URL() + "/v2/enqueue",
		}})
		f, _, err := store.FindingRaise(t.Context(), models.Finding{
			Kind: models.KindStatusMismatch, Subject: "p-9", Severity: models.SeverityError,
			Details: models.Details{"idempotency_key": "detail-not-for-logs"},
		})
		require.NoError(t, err)
		svc.Tick(t.Context())

		// The failures happened, so the test saw what it meant to.
		require.Equal(t, 1, slack.count())
		require.Equal(t, 1, pd.count())
		require.Contains(t, string(slack.last(t).Body), "status_mismatch")
		require.Equal(t, 3, logged(logs, "alert delivery failed"))

		secrets := []string{slackToken, "XoXbSlackSecret", hookToken, routingKey, "/services/T000"}
		var all strings.Builder
		for _, e := range logs.AllEntries() {
			line, err := e.String()
			require.NoError(t, err)
			all.WriteString(line)
		}
		rows, err := store.AlertList(t.Context(), "")
		require.NoError(t, err)
		for _, r := range rows {
			all.WriteString(r.Payload)
			if r.LastError != nil {
				all.WriteString(*r.LastError + "\n")
			}
		}
		for _, s := range secrets {
			require.NotContains(t, all.String(), s)
		}
		require.Contains(t, all.String(), "status 403: rejected [redacted]")
		require.Contains(t, all.String(), "connection refused")

		// The log sink's line: ids, kind, subject, severity; no details.
		var line map[string]any
		for _, e := range logs.AllEntries() {
			if e.Message == "finding opened" {
				line = e.Data
			}
		}
		require.NotNil(t, line, "the log sink wrote the alert")
		require.Equal(t, f.ID, line["finding_id"])
		require.Equal(t, "status_mismatch", line["finding_kind"])
		require.Equal(t, "p-9", line["subject"])
		require.Equal(t, "error", line["severity"])
		for _, e := range logs.AllEntries() {
			s, _ := e.String()
			require.NotContains(t, s, "detail-not-for-logs")
		}
	})
}
