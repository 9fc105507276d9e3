package webhook_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// entriesWith returns the log entries with message msg.
func entriesWith(s *testserver.Server, msg string) []*logrus.Entry {
	var out []*logrus.Entry
	for _, e := range s.Logs.AllEntries() {
		if e.Message == msg {
			out = append(out, e)
		}
	}
	return out
}

// TestDeliveriesAreLoggedAtInfoSampled: each stored or duplicate delivery
// is an info line naming its type, dedup key, inbox row and outcome, at
// most LogPerSecond a second by the handler's clock; what a second held
// back is counted in one line by the next second's first delivery. No line
// carries the body or the signature.
func TestDeliveriesAreLoggedAtInfoSampled(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		s := testserver.Start(t, store, testserver.Options{Clock: clock, Pipeline: webhook.PipelineConfig{
			Handler: webhook.HandlerConfig{LogPerSecond: 2},
		}})
		bodies := [][]byte{withdrawBody("sig-log-1", "u-log-1"), withdrawBody("sig-log-2", "u-log-2"), withdrawBody("sig-log-3", "u-log-3")}
		for _, b := range bodies {
			status, _ := s.PostSigned(t, b)
			require.Equal(t, http.StatusOK, status)
		}
		rows := inboxRows(t, s)
		require.Len(t, rows, 3)
		idByKey := map[string]int64{}
		for _, r := range rows {
			idByKey[r.DedupKey] = r.ID
		}

		lines := entriesWith(s, "webhook received")
		require.Len(t, lines, 2, "two a second; the third is held back")
		for i, e := range lines {
			key, eventType := webhook.DedupKey(bodies[i])
			require.Equal(t, logrus.InfoLevel, e.Level)
			require.Equal(t, eventType, e.Data["event_type"])
			require.Equal(t, key, e.Data["dedup_key"])
			require.Equal(t, idByKey[key], e.Data["inbox_event_id"])
			require.Equal(t, "stored", e.Data["status"])
			require.Equal(t, models.AuthSignature, e.Data["auth"])
			require.NotEmpty(t, e.Data["request_id"])
		}
		require.Empty(t, entriesWith(s, "webhook deliveries not logged"), "nothing is reported before the second ends")

		// The next second: a retry of the first event, a duplicate.
		clock.Advance(time.Second)
		status, _ := s.PostSigned(t, bodies[0])
		require.Equal(t, http.StatusOK, status)
		held := entriesWith(s, "webhook deliveries not logged")
		require.Len(t, held, 1)
		require.Equal(t, 1, held[0].Data["not_logged"])
		require.Equal(t, t0.Truncate(time.Second).Format(time.RFC3339), held[0].Data["since"])
		lines = entriesWith(s, "webhook received")
		require.Len(t, lines, 3)
		dup := lines[2]
		require.Equal(t, "duplicate", dup.Data["status"])
		key, _ := webhook.DedupKey(bodies[0])
		require.Equal(t, key, dup.Data["dedup_key"])
		require.NotContains(t, dup.Data, "inbox_event_id", "a duplicate stored no row")
		require.Equal(t, held[0].Data["request_id"], dup.Data["request_id"], "both lines were written by the same request")

		requireCleanLogs(t, s, bodies)
		for _, e := range s.Logs.AllEntries() {
			line, err := e.String()
			require.NoError(t, err)
			require.NotContains(t, line, "sig-log-", "a log line quotes the body")
			require.NotContains(t, line, "u-log-", "a log line quotes the body")
		}
	})
}

// Anyone can post to the endpoint, so the warnings about refused
// deliveries are sampled like the deliveries; the counter keeps them all.
func TestRejectedDeliveriesAreLoggedSampled(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	clock := dbtest.NewClock(t0)
	s := testserver.Start(t, store, testserver.Options{Clock: clock, Pipeline: webhook.PipelineConfig{
		Handler: webhook.HandlerConfig{LogPerSecond: 2},
	}})
	forged := map[string]string{"Coinflow-Signature": "t=1,v1=00"}
	for i := range 5 {
		status, _ := s.PostWebhook(t, withdrawBody(fmt.Sprintf("sig-bad-%d", i), "u-bad"), forged)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	require.Len(t, entriesWith(s, "reject unauthenticated webhook"), 2, "two a second")
	require.Empty(t, entriesWith(s, "unauthenticated webhooks not logged"))

	clock.Advance(time.Second)
	status, _ := s.PostWebhook(t, withdrawBody("sig-bad-next", "u-bad"), forged)
	require.Equal(t, http.StatusUnauthorized, status)
	held := entriesWith(s, "unauthenticated webhooks not logged")
	require.Len(t, held, 1)
	require.Equal(t, 3, held[0].Data["not_logged"])
	require.Len(t, entriesWith(s, "reject unauthenticated webhook"), 3)
	require.Empty(t, inboxRows(t, s), "nothing refused is stored")
}
