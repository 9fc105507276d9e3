package reconcile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/models"
)

// The webhook applier and reconciliation used to decide apart and
// disagreed: a reused idempotency key was a status_mismatch on one path and
// a missing_locally on the other, and a stale contradiction of a terminal
// status had the subject terminal:<id> on one and <id> on the other. These
// tests send the same evidence through both paths, in both orders, and
// require the same finding every time.

// TestReusedKeyRaisesOneFindingOnEitherPath: Coinflow holds a withdrawal
// under an idempotency key that payoutd's record gives to another
// transaction.
func TestReusedKeyRaisesOneFindingOnEitherPath(t *testing.T) {
	eachOrder(t, []string{"webhook first", "reconciliation first", "reconciliation only"}, func(t *testing.T, b *bundle, order string) {
		owner := b.createPayout(t, models.Payout{
			Amount: usd(4_000), Status: models.StatusPending, IdempotencyKey: ptr("shared-key"),
			CoinflowTransaction: ptr("local-tx"), RequestedSpeed: ptr("standard"),
		})
		if order != "webhook first" {
			b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{Reorder: true}) // held until flushed
		}
		w, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
			UserID: userOK, AmountCents: 7_000, Speed: "standard", IdempotencyKey: "shared-key",
			NoWebhooks: order == "reconciliation only",
		})
		require.NoError(t, err)
		if order == "webhook first" {
			b.settle(t)
			b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityError})
		}
		b.tick(time.Minute)
		requireOK(t, b.run(t))
		if order == "reconciliation first" {
			b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{})
			b.emu.FlushWebhooks()
			b.settle(t)
		}

		open := b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityError})
		f := open[string(models.KindMissingLocally)+" "+w.Transaction]
		got := b.payoutByTxn(t, w.Transaction)
		require.Equal(t, got.ID, *f.PayoutID)
		require.Nil(t, got.IdempotencyKey, "the key stays with the payout that holds it")
		require.Equal(t, models.OriginDiscovered, got.Source)
		requireDetails(t, models.Details{
			"reason": "idempotency_key_reused", "transaction": w.Transaction, "amount": usd(7_000),
			"status": "pending", "idempotency_key_payout_id": owner.ID,
		}, f)
		require.Equal(t, "shared-key", *b.payout(t, owner.ID).IdempotencyKey)
	})
}

// TestStaleContradictionRaisesOneFindingOnEitherPath: Coinflow failed a
// payout (that word delayed or lost), and payoutd heard later that it
// succeeded. The failure reaches payoutd by its webhook or by
// reconciliation; or it comes first and the success after it.
func TestStaleContradictionRaisesOneFindingOnEitherPath(t *testing.T) {
	eachOrder(t, []string{"webhook, failure last", "reconciliation, failure last", "webhook, success last"}, func(t *testing.T, b *bundle, path string) {
		p := b.pay(t, userOK, 25_000, "asap", "stale-contradiction")
		switch path {
		case "webhook, failure last":
			b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{Reorder: true})
		case "reconciliation, failure last":
			b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		}
		b.tick(time.Minute)
		require.NoError(t, b.emu.Fail(txn(t, p), "account closed"))
		if path == "webhook, success last" {
			b.settle(t)
			require.Equal(t, models.StatusFailed, b.payout(t, p.ID).Status)
		}
		b.tick(time.Minute)
		b.apply(t, p.ID, models.StatusCompleted, b.clock.Now()) // payoutd hears, later, that it succeeded
		switch path {
		case "webhook, failure last":
			b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{})
			b.emu.FlushWebhooks()
			b.settle(t)
		case "reconciliation, failure last":
			requireOK(t, b.run(t))
		}

		subject := "terminal:" + p.ID
		open := b.requireOpen(t, key{models.KindStatusMismatch, subject, models.SeverityError})
		f := open[string(models.KindStatusMismatch)+" "+subject]
		require.Equal(t, "terminal_status_changed", f.Details["reason"])
		require.Equal(t, p.ID, *f.PayoutID)
		require.Equal(t, models.StatusCompleted, b.payout(t, p.ID).Status, "the newer evidence stands")

		// Whichever path came first, a complete run afterwards
		// leaves the same one finding.
		b.tick(time.Minute)
		requireOK(t, b.run(t))
		b.requireOpen(t, key{models.KindStatusMismatch, subject, models.SeverityError})
	})
}

// eachOrder runs fn for each order (or path) as a parallel subtest, on
// both databases.
func eachOrder(t *testing.T, orders []string, fn func(t *testing.T, b *bundle, order string)) {
	t.Parallel()
	for _, order := range orders {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			each(t, options{}, func(t *testing.T, b *bundle) { fn(t, b, order) })
		})
	}
}
