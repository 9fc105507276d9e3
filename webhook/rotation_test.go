package webhook_test

import (
	"fmt"
	"net/http"
	"strings"
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

const (
	oldKey   = "old-validation-key-7d2e4b6a8c0f1e3d"
	newKey   = "new-validation-key-9a1b3c5d7e9f0a2b"
	otherKey = "not-a-key-payoutd-has-ever-had-000"
)

// rotatingServer is a payoutd whose current key is newKey and whose previous
// key is oldKey, on each database.
func rotatingServer(t *testing.T, fn func(t *testing.T, s *testserver.Server)) {
	t.Helper()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		var cfg webhook.PipelineConfig
		cfg.Handler.Key, cfg.Handler.PreviousKey = []byte(newKey), []byte(oldKey)
		fn(t, testserver.Start(t, store, testserver.Options{Clock: clock, Pipeline: cfg}))
	})
}

// nthPending is the pending fixture naming a withdrawal of its own.
func nthPending(t *testing.T, n int) []byte {
	return edited(pendingFx, func(_, data map[string]any) {
		data["signature"] = fmt.Sprintf("rotation%044d", n)
	})(t)
}

func bySignature(key string) func(s *testserver.Server, b []byte) http.Header {
	return func(s *testserver.Server, b []byte) http.Header {
		return hdr("Content-Type", "application/json", "Coinflow-Signature", webhook.Sign([]byte(key), s.Clock.Now(), b))
	}
}

func byAuthorization(key string) func(s *testserver.Server, b []byte) http.Header {
	return func(*testserver.Server, []byte) http.Header {
		return hdr("Content-Type", "application/json", "Authorization", key)
	}
}

func previousKeyCount(t *testing.T, s *testserver.Server, scheme string) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, s.Metrics.WebhooksPreviousKey.WithLabelValues(scheme).Write(&m))
	return m.GetCounter().GetValue()
}

func authFailures(t *testing.T, s *testserver.Server, cause string) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, s.Metrics.WebhookAuthFailures.WithLabelValues(cause).Write(&m))
	return m.GetCounter().GetValue()
}

// TestRotationAcceptsBothKeysUnderBothSchemes: during a rotation a delivery
// under either key is stored, under both schemes, and records which key and
// scheme authenticated it; only the previous key's acceptances are counted.
func TestRotationAcceptsBothKeysUnderBothSchemes(t *testing.T) {
	t.Parallel()
	rotatingServer(t, func(t *testing.T, s *testserver.Server) {
		cases := []struct {
			header         func(*testserver.Server, []byte) http.Header
			method, key    string
			previousScheme string
		}{
			{bySignature(newKey), models.AuthSignature, models.AuthKeyCurrent, ""},
			{bySignature(oldKey), models.AuthSignature, models.AuthKeyPrevious, models.AuthSignature},
			{byAuthorization(newKey), models.AuthAuthorization, models.AuthKeyCurrent, ""},
			{byAuthorization(oldKey), models.AuthAuthorization, models.AuthKeyPrevious, models.AuthAuthorization},
		}
		var bodies [][]byte
		for i, tc := range cases {
			b := nthPending(t, i)
			got := send(t, s, request{body: b, header: tc.header(s, b)})
			require.Equal(t, http.StatusOK, got.code, "case %d: %s", i, got.raw)
			require.Equal(t, "stored", got.status)
			bodies = append(bodies, b)
		}
		s.Drain(t)
		rows := inboxRows(t, s)
		require.Len(t, rows, len(cases))
		for i, tc := range cases {
			require.Equal(t, bodies[i], rows[i].Body)
			require.Equal(t, tc.method, deref(rows[i].AuthMethod), "case %d", i)
			require.Equal(t, tc.key, deref(rows[i].AuthKey), "case %d", i)
			require.Equal(t, models.InboxApplied, rows[i].Status, "case %d", i)
		}
		require.Equal(t, 1.0, previousKeyCount(t, s, models.AuthSignature))
		require.Equal(t, 1.0, previousKeyCount(t, s, models.AuthAuthorization))
		require.Equal(t, float64(len(cases)), receivedByOutcome(t, s)["stored"])
		requireCleanLogs(t, s, bodies)
		for _, e := range s.Logs.AllEntries() {
			text := e.Message + fmt.Sprint(e.Data)
			require.NotContains(t, text, oldKey)
			require.NotContains(t, text, newKey)
		}
	})
}

// TestRotationRefusesWhatNeitherKeyVerifies: a present signature that fails
// under both keys is refused even when Authorization carries a valid key,
// and each failure is counted by its cause.
func TestRotationRefusesWhatNeitherKeyVerifies(t *testing.T) {
	t.Parallel()
	rotatingServer(t, func(t *testing.T, s *testserver.Server) {
		b := nthPending(t, 1)
		now := func() string { return unixText(s.Clock.Now()) }
		for i, h := range []struct {
			header http.Header
			cause  string
		}{
			{hdr("Coinflow-Signature", webhook.Sign([]byte(otherKey), s.Clock.Now(), b), "Authorization", newKey), "bad_mac"},
			{hdr("Coinflow-Signature", webhook.Sign([]byte(otherKey), s.Clock.Now(), b), "Authorization", oldKey), "bad_mac"},
			{hdr("Coinflow-Signature", webhook.Sign([]byte(oldKey), s.Clock.Now().Add(-tolerance-time.Second), b)), "stale"},
			{hdr("Coinflow-Signature", webhook.Sign([]byte(newKey), s.Clock.Now().Add(-time.Hour), b), "Authorization", newKey), "stale"},
			{hdr("Coinflow-Signature", "t="+now()+",v1=zz", "Authorization", newKey), "malformed"},
			{hdr("Coinflow-Signature", "v1="+macHex(newKey, now(), b)), "malformed"},
			{hdr("Authorization", otherKey), "bad_authorization"},
			{hdr("Authorization", "Bearer "+newKey), "bad_authorization"},
			{hdr("Content-Type", "application/json"), "missing"},
		} {
			got := send(t, s, request{body: b, header: h.header})
			require.Equal(t, http.StatusUnauthorized, got.code, "case %d: %s", i, got.raw)
		}
		want := map[string]float64{"bad_mac": 2, "stale": 2, "malformed": 2, "bad_authorization": 2, "missing": 1}
		for cause, n := range want {
			require.Equal(t, n, authFailures(t, s, cause), cause)
		}
		require.Equal(t, 9.0, counterValue(t, s, "none", "unauthenticated"))
		require.Zero(t, countRows(t, s, "inbox_events"))
		require.Zero(t, previousKeyCount(t, s, models.AuthSignature)+previousKeyCount(t, s, models.AuthAuthorization))
		causes := map[string]int{}
		for _, e := range s.Logs.AllEntries() {
			if e.Level == logrus.WarnLevel {
				c, _ := e.Data["cause"].(string)
				causes[c]++
			}
			text := e.Message + fmt.Sprint(e.Data)
			for _, secret := range []string{oldKey, newKey, otherKey, string(b)} {
				require.NotContains(t, text, secret)
			}
		}
		require.Equal(t, map[string]int{"bad_mac": 2, "stale": 2, "malformed": 2, "bad_authorization": 2, "missing": 1}, causes)
	})
}

// TestPreviousKeyLoggedAtMostOnceAnHour: every acceptance under the previous
// key is counted, but the log line comes at most once an hour of the
// handler's clock, and says how many it stands for.
func TestPreviousKeyLoggedAtMostOnceAnHour(t *testing.T) {
	t.Parallel()
	rotatingServer(t, func(t *testing.T, s *testserver.Server) {
		n := 0
		deliver := func() {
			b := nthPending(t, n)
			n++
			got := send(t, s, request{body: b, header: byAuthorization(oldKey)(s, b)})
			require.Equal(t, http.StatusOK, got.code, got.raw)
		}
		logged := func() []*logrus.Entry {
			var out []*logrus.Entry
			for _, e := range s.Logs.AllEntries() {
				if strings.Contains(e.Message, "webhook_previous_key") {
					out = append(out, e)
				}
			}
			return out
		}
		for range 5 {
			deliver()
			s.Clock.Advance(10 * time.Minute)
		}
		require.Len(t, logged(), 1, "five deliveries within 50 minutes: one line")
		s.Clock.Advance(10 * time.Minute) // an hour after the first line
		deliver()
		lines := logged()
		require.Len(t, lines, 2)
		require.Equal(t, 5, lines[1].Data["accepted_since_last_log"])
		require.Equal(t, 6.0, previousKeyCount(t, s, models.AuthAuthorization))
	})
}

// TestPreviousKeyEqualToCurrentIsRefused: a "rotation" to the same key is a
// configuration mistake, not an overlap.
func TestPreviousKeyEqualToCurrentIsRefused(t *testing.T) {
	t.Parallel()
	_, err := webhook.NewHandler(nil, nil, nil, webhook.HandlerConfig{Key: []byte(newKey), PreviousKey: []byte(newKey)})
	require.Error(t, err)
	require.NotContains(t, err.Error(), newKey)
}
