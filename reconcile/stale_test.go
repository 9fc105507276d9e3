package reconcile_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// TestStaleRetryIsRefusedAndHealedByReconciliation is issue 11 item 7.
// Coinflow retries a delivery for up to 36 hours; a retry that still
// carries the original t falls outside the 5-minute tolerance and is
// refused, as a replay would be (payoutd keeps that protection). The
// success it carried is not lost: the next reconciliation pages the
// withdraw and heals the payout from Coinflow's record.
func TestStaleRetryIsRefusedAndHealedByReconciliation(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "heal-stale")
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1}) // the first attempts fail...
		b.tick(5 * time.Minute)
		b.settle(t)
		w, ok := b.emu.Withdraw(txn(t, p))
		require.True(t, ok)
		require.Equal(t, coinflowtest.StatusCompleted, w.Status)
		signedAt := b.clock.Now()

		// ...and a retry an hour later carries the original t: the MAC is
		// Coinflow's, the timestamp an hour old.
		b.tick(time.Hour)
		body := successBody(t, txn(t, p))
		code, answer := b.srv.PostWebhook(t, body, map[string]string{
			"Content-Type": "application/json", "Coinflow-Signature": webhook.Sign([]byte(testserver.WebhookKey), signedAt, body),
		})
		require.Equal(t, http.StatusUnauthorized, code, answer)
		var m dto.Metric
		require.NoError(t, b.srv.Metrics.WebhookAuthFailures.WithLabelValues("stale").Write(&m))
		require.Equal(t, 1.0, m.GetCounter().GetValue(), "refused as stale, and counted so")
		b.srv.Drain(t)
		require.Equal(t, models.StatusPending, b.payout(t, p.ID).Status, "payoutd never stored the success")

		run := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["payouts_healed"])
		got := b.payout(t, p.ID)
		require.Equal(t, models.StatusCompleted, got.Status)
		require.True(t, w.UpdatedAt.Equal(got.StatusAt), "status_at is Coinflow's completion time")
		h := b.lastApplied(t, p.ID)
		require.Equal(t, models.SourceReconcile, h.Source)
		require.Equal(t, "completed", h.ToStatus)
		b.requireOpen(t)
	})
}

// successBody is the recorded Withdraw Success for the withdrawal txn.
func successBody(t *testing.T, txn string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../testdata/coinflow/fixtures/webhooks/withdraw-success.json")
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(raw, &ev))
	data := ev["data"].(map[string]any)
	data["signature"], data["userId"] = txn, userOK
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}
