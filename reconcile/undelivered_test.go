package reconcile_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

// loseSuccesses pays n payouts, then lets Coinflow complete them while
// every Withdraw Success delivery fails for good (three unanswered
// attempts, then Coinflow gives up). It returns the payouts' transactions.
func (b *bundle) loseSuccesses(t *testing.T, n int) []string {
	t.Helper()
	var txns []string
	for i := range n {
		p := b.pay(t, userOK, 1_000+int64(i), "asap", fmt.Sprintf("undelivered-%d", i))
		txns = append(txns, txn(t, p))
	}
	b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{FailNext: n, FailAttempts: 3})
	b.tick(5 * time.Minute)
	b.settle(t)
	b.emu.ClearWebhookFaults()
	var lost []string
	for _, d := range b.emu.Deliveries() {
		if d.Undeliverable {
			require.True(t, d.GaveUp)
			require.Equal(t, 3, d.Attempts)
			lost = append(lost, d.Transaction)
		}
	}
	require.ElementsMatch(t, txns, lost, "every success was lost for good")
	require.Zero(t, b.successesHeld(t, txns, ""), "payoutd holds none of them")
	return txns
}

// successesHeld counts the stored Withdraw Success events of txns, in
// status when it is not "".
func (b *bundle) successesHeld(t *testing.T, txns []string, status models.InboxStatus) int64 {
	t.Helper()
	q := b.store.DB().WithContext(t.Context()).Model(&models.InboxEvent{}).
		Where("event_type = ? AND subject_transaction IN ?", "Withdraw Success", txns)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var n int64
	require.NoError(t, q.Count(&n).Error)
	return n
}

func (b *bundle) undelivered(t *testing.T) []models.Finding {
	t.Helper()
	fs, err := b.store.FindingListUnresolvedOfKind(t.Context(), models.KindWebhookUndelivered)
	require.NoError(t, err)
	return fs
}

// The test: Coinflow drops 10 deliveries for good; the next
// reconciliation asks for each to be resent, the events arrive and apply,
// and webhook_undelivered resolves on the run after.
func TestUndeliveredWebhooksAreResent(t *testing.T) {
	t.Parallel()
	for _, packets := range []bool{false, true} {
		t.Run(map[bool]string{false: "data", true: "packet"}[packets], func(t *testing.T) {
			t.Parallel()
			testUndeliveredResent(t, packets)
		})
	}
}

// testUndeliveredResent is the test, with the activity's data the
// event's data (identified by type and subject) or, when packets, the whole
// packet (identified by its dedup key).
func testUndeliveredResent(t *testing.T, packets bool) {
	each(t, options{cfg: reconcile.Config{ResendPace: time.Millisecond}}, func(t *testing.T, b *bundle) {
		b.emu.SetWebhookLogPackets(packets)
		txns := b.loseSuccesses(t, 11)
		// One of the 11 reaches payoutd some other way (say, stored but
		// acknowledged too late): held, it is neither resent nor raised.
		i := slices.IndexFunc(b.emu.Deliveries(), func(d coinflowtest.Delivery) bool { return d.Undeliverable })
		status, _ := b.srv.PostSigned(t, b.emu.Deliveries()[i].Body)
		require.Equal(t, http.StatusOK, status)
		b.srv.Drain(t)
		heldTxn := b.emu.Deliveries()[i].Transaction
		txns = slices.DeleteFunc(txns, func(s string) bool { return s == heldTxn })

		run := b.runOK(t)
		require.Equal(t, int64(10), counts(t, run)["webhooks_resent"])
		open := b.undelivered(t)
		require.Len(t, open, 10)
		var named []string
		for _, f := range open {
			require.Equal(t, models.SeverityWarning, f.Severity)
			require.Equal(t, "Withdraw Success", f.Details["event_type"])
			require.EqualValues(t, 3, f.Details["attempts"])
			require.EqualValues(t, 0, f.Details["last_response_code"])
			require.EqualValues(t, 1, f.Details["resends"])
			require.Equal(t, userOK, *f.UserID)
			named = append(named, f.Details["transaction"].(string))
		}
		require.ElementsMatch(t, txns, named, "one finding per lost event")
		resent := slices.DeleteFunc(b.emu.Deliveries(), func(d coinflowtest.Delivery) bool { return !d.Resent })
		require.Len(t, resent, 10, "Coinflow was asked once for each")
		require.NotContains(t, named, heldTxn)

		b.settle(t)
		require.EqualValues(t, 10, b.successesHeld(t, txns, models.InboxApplied), "the resent events arrived and applied")

		b.tick(time.Minute)
		run = b.runOK(t)
		require.NotContains(t, counts(t, run), "webhooks_resent", "nothing left to resend")
		require.Empty(t, b.undelivered(t))
		for _, f := range open {
			b.requireResolved(t, run, models.KindWebhookUndelivered, f.Subject)
		}
		b.requireOpen(t)
	})
}

// At most MaxResends a run; an event already asked for is not asked for
// again before ResendBackoff; an event payoutd holds is never asked for.
func TestUndeliveredResendsArePaced(t *testing.T) {
	t.Parallel()
	cfg := reconcile.Config{ResendPace: time.Millisecond, MaxResends: 2, ResendBackoff: time.Hour}
	each(t, options{cfg: cfg}, func(t *testing.T, b *bundle) {
		txns := b.loseSuccesses(t, 3)
		b.emu.SetWebhookURL("") // resends are queued but go nowhere

		run := b.runOK(t)
		require.Equal(t, int64(2), counts(t, run)["webhooks_resent"], "MaxResends")
		require.Len(t, b.undelivered(t), 3)

		run = b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["webhooks_resent"], "only the one not asked for yet")
		require.Len(t, b.undelivered(t), 3, "still not held")

		b.tick(30 * time.Minute)
		run = b.runOK(t)
		require.NotContains(t, counts(t, run), "webhooks_resent", "within ResendBackoff")

		b.tick(31 * time.Minute)
		b.emu.SetWebhookURL(b.srv.URL + "/webhooks/coinflow")
		run = b.runOK(t)
		require.Equal(t, int64(2), counts(t, run)["webhooks_resent"], "the first two again, after ResendBackoff")
		b.settle(t)
		require.EqualValues(t, 2, b.successesHeld(t, txns, ""))

		run = b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["webhooks_resent"])
		require.Len(t, b.undelivered(t), 1, "the two held are resolved")
		b.settle(t)
		b.runOK(t)
		require.Empty(t, b.undelivered(t))
	})
}
