package reconcile_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

func TestDroppedSuccessWebhookIsHealed(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "heal-dropped")
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		b.tick(5 * time.Minute)
		b.settle(t)
		w, ok := b.emu.Withdraw(txn(t, p))
		require.True(t, ok)
		require.Equal(t, coinflowtest.StatusCompleted, w.Status)
		require.Equal(t, models.StatusPending, b.payout(t, p.ID).Status, "payoutd never heard of the success")

		run := b.runOK(t)
		require.Equal(t, map[string]int64{
			"withdraws_seen": 1, "payouts_healed": 1, "withdrawers_synced": 1,
			"balance_cents": b.emu.Balance(),
		}, counts(t, run))
		got := b.payout(t, p.ID)
		require.Equal(t, models.StatusCompleted, got.Status)
		require.True(t, w.UpdatedAt.Equal(got.StatusAt), "status_at is Coinflow's completion time: %s, want %s", got.StatusAt, w.UpdatedAt)
		h := b.lastApplied(t, p.ID)
		require.Equal(t, models.SourceReconcile, h.Source)
		require.Equal(t, "completed", h.ToStatus)
		require.Equal(t, "pending", *h.FromStatus)
		require.Equal(t, models.ReasonAdvanced, h.Reason)
		b.requireOpen(t)

		b.tick(time.Minute)
		run = b.runOK(t)
		require.NotContains(t, counts(t, run), "payouts_healed", "nothing left to heal")
		b.requireOpen(t)
	})
}

func TestTerminalChangeFromCoinflowIsHealedAndKeptOpen(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.payCompleted(t, "bank-return")

		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		b.tick(time.Minute)
		require.NoError(t, b.emu.FailAfterSuccess(txn(t, p)))
		b.settle(t)
		require.Equal(t, models.StatusCompleted, b.payout(t, p.ID).Status, "the failure webhook was lost")

		run := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["payouts_healed"])
		require.Equal(t, int64(1), counts(t, run)["findings_opened"])
		got := b.payout(t, p.ID)
		require.Equal(t, models.StatusFailed, got.Status, "newer evidence from Coinflow wins")
		require.Equal(t, coinflow.ReturnPending, *got.ReturnStatus)
		h := b.lastApplied(t, p.ID)
		require.Equal(t, models.SourceReconcile, h.Source)
		require.Equal(t, models.ReasonTerminalChanged, h.Reason)
		require.Equal(t, "completed", *h.FromStatus)

		subject := "terminal:" + p.ID
		open := b.requireOpen(t, key{models.KindStatusMismatch, subject, models.SeverityError})
		f := open[string(models.KindStatusMismatch)+" "+subject]
		require.Equal(t, p.ID, *f.PayoutID)
		require.Equal(t, userOK, *f.UserID)
		requireDetails(t, models.Details{
			"reason": "terminal_status_changed", "source": "reconcile", "status": "failed", "coinflow_status": "failed",
		}, f)

		// Money that changed its mind stays for a person: a later run that
		// sees everything agree does not resolve it.
		b.tick(time.Minute)
		b.runOK(t)
		b.requireOpen(t, key{models.KindStatusMismatch, subject, models.SeverityError})
		require.Len(t, b.findings(t, models.KindStatusMismatch, subject), 1)
	})
}

func TestLocalAheadOfCoinflowIsRaisedThenResolved(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "local-ahead")
		b.tick(time.Minute)
		// payoutd holds a completion Coinflow's list does not show yet.
		ch := b.apply(t, p.ID, models.StatusCompleted, b.clock.Now())
		require.True(t, ch.Healed)

		b.runOK(t)
		require.Equal(t, models.StatusCompleted, b.payout(t, p.ID).Status, "never moved backwards")
		hs, err := b.store.PayoutHistoryList(t.Context(), p.ID)
		require.NoError(t, err)
		last := hs[len(hs)-1]
		require.Equal(t, models.SourceReconcile, last.Source)
		require.False(t, last.Applied)
		require.Equal(t, models.ReasonStale, last.Reason)

		open := b.requireOpen(t, key{models.KindStatusMismatch, p.ID, models.SeverityWarning})
		f := open[string(models.KindStatusMismatch)+" "+p.ID]
		requireDetails(t, models.Details{
			"reason": "local_ahead", "local_status": "completed", "coinflow_status": "pending", "transaction": txn(t, p),
		}, f)

		b.tick(5 * time.Minute) // Coinflow completes it (and says so)
		b.settle(t)
		run2 := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run2)["findings_resolved"])
		b.requireOpen(t)
		b.requireResolved(t, run2, models.KindStatusMismatch, p.ID)
	})
}

func TestContradictionWithNewerLocalOutcome(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "contradiction")
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		b.tick(time.Minute)
		require.NoError(t, b.emu.Fail(txn(t, p), "account closed"))
		b.settle(t)
		// payoutd heard, later than Coinflow's failure, that it succeeded.
		b.tick(time.Minute)
		require.True(t, b.apply(t, p.ID, models.StatusCompleted, b.clock.Now()).Healed)

		run := b.runOK(t)
		require.NotContains(t, counts(t, run), "payouts_healed")
		require.Equal(t, models.StatusCompleted, b.payout(t, p.ID).Status, "the newer evidence stands")
		// Completed and failed were both reported: the terminal finding,
		// the same one a webhook carrying that failure raises (see
		// TestStaleContradictionRaisesOneFindingOnEitherPath).
		subject := "terminal:" + p.ID
		open := b.requireOpen(t, key{models.KindStatusMismatch, subject, models.SeverityError})
		requireDetails(t, models.Details{
			"reason": "terminal_status_changed", "source": "reconcile", "status": "completed", "coinflow_status": "failed",
		}, open[string(models.KindStatusMismatch)+" "+subject])
	})
}

func TestAmountMismatchRaisedForOwnPayoutsHealedForDiscovered(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "amount")
		require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = ? WHERE id = ?", 24_000, p.ID).Error)
		w, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: userOK, AmountCents: 7_000, Speed: "standard", NoWebhooks: true})
		require.NoError(t, err)

		b.runOK(t)
		open := b.requireOpen(t,
			key{models.KindAmountMismatch, p.ID, models.SeverityError},
			key{models.KindMissingLocally, w.Transaction, models.SeverityWarning},
		)
		requireDetails(t, models.Details{"local": usd(24_000), "coinflow": usd(25_000), "transaction": txn(t, p)},
			open[string(models.KindAmountMismatch)+" "+p.ID])
		require.EqualValues(t, 24_000, b.payout(t, p.ID).Amount.Cents, "payoutd's own record is not overwritten")
		d := b.payoutByTxn(t, w.Transaction)
		require.EqualValues(t, 7_000, d.Amount.Cents)

		// A discovered payout's amount is Coinflow's: healed, not raised.
		require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = ? WHERE id = ?", 1, d.ID).Error)
		b.tick(time.Minute)
		run := b.runOK(t)
		require.Equal(t, usd(7_000), b.payout(t, d.ID).Amount)
		open = b.requireOpen(t,
			key{models.KindAmountMismatch, p.ID, models.SeverityError},
			key{models.KindMissingLocally, w.Transaction, models.SeverityWarning},
		)
		require.NotContains(t, counts(t, run), "payouts_healed", "an amount is not a status")
		requireDetails(t, models.Details{"transaction": w.Transaction, "amount": usd(7_000), "status": "pending", "speed": "standard"},
			open[string(models.KindMissingLocally)+" "+w.Transaction])

		require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = ? WHERE id = ?", 25_000, p.ID).Error)
		b.tick(time.Minute)
		run = b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["findings_resolved"])
		b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityWarning})
		b.requireResolved(t, run, models.KindAmountMismatch, p.ID)
	})
}

func TestWithdrawUnknownLocallyIsDiscovered(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		w, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
			UserID: userOK, AmountCents: 7_000, Speed: "standard", IdempotencyKey: "made-elsewhere", NoWebhooks: true,
		})
		require.NoError(t, err)

		run := b.runOK(t)
		require.Equal(t, map[string]int64{
			"withdraws_seen": 1, "payouts_discovered": 1, "findings_raised": 1, "findings_opened": 1,
			"withdrawers_synced": 1, "withdrawers_changed": 1, "balance_cents": b.emu.Balance(),
		}, counts(t, run))
		d := b.payoutByTxn(t, w.Transaction)
		require.Equal(t, models.OriginDiscovered, d.Source)
		require.Equal(t, models.StatusPending, d.Status)
		require.Equal(t, userOK, d.UserID)
		require.Equal(t, usd(7_000), d.Amount)
		require.Equal(t, usd(50), d.MerchantFees)
		require.Equal(t, "standard", *d.EffectiveSpeed)
		require.Equal(t, "made-elsewhere", *d.IdempotencyKey)
		require.Equal(t, w.TransferID, *d.CoinflowTransferID)
		require.True(t, w.ExpectedDeliveryDate.Equal(*d.ExpectedDeliveryAt))
		h := b.lastApplied(t, d.ID)
		require.Equal(t, models.SourceReconcile, h.Source)
		require.Equal(t, models.ReasonCreated, h.Reason)

		open := b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityWarning})
		f := open[string(models.KindMissingLocally)+" "+w.Transaction]
		require.Equal(t, d.ID, *f.PayoutID)
		requireDetails(t, models.Details{"transaction": w.Transaction, "amount": usd(7_000), "status": "pending", "speed": "standard"}, f)

		b.tick(time.Minute)
		run = b.runOK(t)
		require.NotContains(t, counts(t, run), "payouts_discovered")
		b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityWarning})
		var n int64
		require.NoError(t, b.store.DB().Model(&models.Payout{}).Count(&n).Error)
		require.EqualValues(t, 1, n)
	})
}

func TestWithdrawFirstKnownFromAWebhookIsStillMissingLocally(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		w, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: userOK, AmountCents: 8_000, Speed: "asap"})
		require.NoError(t, err)
		b.settle(t)
		d := b.payoutByTxn(t, w.Transaction)
		require.Equal(t, models.OriginDiscovered, d.Source, "the webhook discovered it")
		b.requireOpen(t)

		run := b.runOK(t)
		require.NotContains(t, counts(t, run), "payouts_discovered")
		open := b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityWarning})
		f := open[string(models.KindMissingLocally)+" "+w.Transaction]
		require.Equal(t, d.ID, *f.PayoutID)
		requireDetails(t, models.Details{"transaction": w.Transaction, "amount": usd(8_000), "status": "pending", "speed": "asap"}, f)
	})
}

func TestMissingAtCoinflow(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		ghost := b.createPayout(t, models.Payout{Amount: usd(5_000), Status: models.StatusPending, CoinflowTransaction: ptr("ghost-txn")})
		requested := b.createPayout(t, models.Payout{Amount: usd(3_000), Status: models.StatusRequested, IdempotencyKey: ptr("never-sent")})
		unknown := b.createPayout(t, models.Payout{Amount: usd(4_000), Status: models.StatusUnknown})
		// Refused before it reached Coinflow: nothing to look for there.
		b.createPayout(t, models.Payout{Amount: usd(2_000), Status: models.StatusFailed})
		b.tick(31 * time.Minute)
		fresh := b.createPayout(t, models.Payout{Amount: usd(6_000), Status: models.StatusPending, CoinflowTransaction: ptr("fresh-txn")})
		b.tick(time.Second)

		run := b.runOK(t)
		require.Equal(t, int64(3), counts(t, run)["missing_at_coinflow"])
		require.Equal(t, 1, b.emu.Calls(coinflowtest.OpGetWithdraw), "only the payout with a transaction is confirmed")
		open := b.requireOpen(t,
			key{models.KindMissingAtCoinflow, ghost.ID, models.SeverityError},
			key{models.KindMissingAtCoinflow, requested.ID, models.SeverityWarning},
			key{models.KindMissingAtCoinflow, unknown.ID, models.SeverityWarning},
		)
		requireDetails(t, models.Details{"status": "pending", "transaction": "ghost-txn", "idempotency_key": nil, "created_at": start},
			open[string(models.KindMissingAtCoinflow)+" "+ghost.ID])
		requireDetails(t, models.Details{"status": "requested", "transaction": nil, "idempotency_key": "never-sent", "created_at": start},
			open[string(models.KindMissingAtCoinflow)+" "+requested.ID])

		// Coinflow turns out to have the ghost (it was only outside the
		// list); the fresh one is now past its grace.
		_, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
			UserID: userOK, AmountCents: 5_000, Speed: "standard", Transaction: "ghost-txn", CreatedAt: start, NoWebhooks: true, NoDebit: true,
		})
		require.NoError(t, err)
		b.tick(30 * time.Minute)
		run = b.runOK(t)
		b.requireOpen(t,
			key{models.KindMissingAtCoinflow, fresh.ID, models.SeverityError},
			key{models.KindMissingAtCoinflow, requested.ID, models.SeverityWarning},
			key{models.KindMissingAtCoinflow, unknown.ID, models.SeverityWarning},
		)
		b.requireResolved(t, run, models.KindMissingAtCoinflow, ghost.ID)
	})
}

func TestSpeedMismatchExpectedAndUnexpected(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		big := b.pay(t, userOK, 125_000_000, "same_day", "nacha")
		atLimit := b.pay(t, userOK, 100_000_000, "same_day", "at-limit")
		b.emu.SetDowngrade("asap", "standard")
		b.emu.SetDowngrade("same_day", "standard")
		asap := b.pay(t, userOK, 25_000, "asap", "downgraded")
		small := b.pay(t, userOK, 50_000, "same_day", "same-day-downgraded")
		require.Equal(t, "same_day", *atLimit.EffectiveSpeed, "exactly 1,000,000.00 USD stays same_day")

		b.runOK(t)
		open := b.requireOpen(t,
			key{models.KindSpeedMismatch, big.ID, models.SeverityInfo},
			key{models.KindSpeedMismatch, asap.ID, models.SeverityWarning},
			key{models.KindSpeedMismatch, small.ID, models.SeverityWarning},
		)
		requireDetails(t, models.Details{
			"requested_speed": "same_day", "effective_speed": "standard", "amount": usd(125_000_000),
			"expected": true, "reason": "nacha_same_day_limit",
		}, open[string(models.KindSpeedMismatch)+" "+big.ID])
		requireDetails(t, models.Details{
			"requested_speed": "asap", "effective_speed": "standard", "amount": usd(25_000), "expected": false,
		}, open[string(models.KindSpeedMismatch)+" "+asap.ID])
		requireDetails(t, models.Details{
			"requested_speed": "same_day", "effective_speed": "standard", "amount": usd(50_000), "expected": false,
		}, open[string(models.KindSpeedMismatch)+" "+small.ID])
	})
}

func TestStuckPastExpectedDeliveryDate(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "stuck")
		require.NoError(t, b.emu.Stuck(txn(t, p)))
		w, _ := b.emu.Withdraw(txn(t, p))
		require.NotNil(t, p.ExpectedDeliveryAt)
		require.True(t, w.ExpectedDeliveryDate.Equal(*p.ExpectedDeliveryAt))
		due, basis := b.rec.Deadline(p)
		require.Equal(t, "expected_delivery_date", basis)
		require.True(t, w.ExpectedDeliveryDate.Add(15*time.Minute).Equal(due))

		b.tick(due.Sub(b.clock.Now()))
		b.runOK(t)
		b.requireOpen(t) // due, not yet past due

		b.tick(time.Minute)
		run := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["stuck"])
		require.Equal(t, models.StatusPending, b.payout(t, p.ID).Status)
		open := b.requireOpen(t, key{models.KindStuckPayout, p.ID, models.SeverityWarning})
		requireDetails(t, models.Details{
			"status": "pending", "deadline": due, "deadline_basis": "expected_delivery_date",
			"overdue_seconds": 60, "amount": usd(25_000),
		}, open[string(models.KindStuckPayout)+" "+p.ID])

		require.NoError(t, b.emu.Complete(txn(t, p)))
		b.settle(t)
		b.tick(time.Minute)
		run = b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["findings_resolved"])
		b.requireOpen(t)
		b.requireResolved(t, run, models.KindStuckPayout, p.ID)
	})
}

func TestStuckPastSpeedWindow(t *testing.T) {
	t.Parallel()
	// Local-only payouts: a long grace keeps missing_at_coinflow out of it.
	each(t, options{cfg: reconcile.Config{MissingGrace: 30 * 24 * time.Hour}}, func(t *testing.T, b *bundle) {
		var ps []*models.Payout
		for _, speed := range []string{"asap", "same_day", "standard"} {
			ps = append(ps, b.createPayout(t, models.Payout{
				Amount: usd(1_000), Status: models.StatusPending, RequestedSpeed: ptr(speed), EffectiveSpeed: ptr(speed),
			}))
		}
		var open []key
		for i, p := range ps {
			due, basis := b.rec.Deadline(p)
			require.Equal(t, "window:"+*p.RequestedSpeed, basis)
			b.tick(due.Sub(b.clock.Now()))
			b.runOK(t)
			b.requireOpen(t, open...)

			b.tick(time.Second)
			run := b.runOK(t)
			open = append(open, key{models.KindStuckPayout, p.ID, models.SeverityWarning})
			got := b.requireOpen(t, open...)
			requireDetails(t, models.Details{
				"status": "pending", "deadline": due, "deadline_basis": basis, "overdue_seconds": 1, "amount": usd(1_000),
			}, got[string(models.KindStuckPayout)+" "+p.ID])
			require.Equal(t, int64(i+1), counts(t, run)["stuck"])
		}
		// The deadlines of the three rails, from Monday 14:00 UTC.
		asapDue, _ := b.rec.Deadline(ps[0])
		sameDayDue, _ := b.rec.Deadline(ps[1])
		standardDue, _ := b.rec.Deadline(ps[2])
		require.True(t, start.Add(45*time.Minute).Equal(asapDue), "asap: %s", asapDue)
		// 18:00 in New York (EDT) is 22:00 UTC.
		require.True(t, time.Date(2025, 6, 2, 22, 15, 0, 0, time.UTC).Equal(sameDayDue), "same_day: end of the business day plus grace: %s", sameDayDue)
		require.True(t, time.Date(2025, 6, 5, 22, 15, 0, 0, time.UTC).Equal(standardDue), "standard: three business days later: %s", standardDue)

		b.apply(t, ps[0].ID, models.StatusCompleted, b.clock.Now())
		b.tick(time.Minute)
		run := b.runOK(t)
		b.requireOpen(t, open[1:]...)
		b.requireResolved(t, run, models.KindStuckPayout, ps[0].ID)
	})
}

func TestReturnAfterCompletion(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.payCompleted(t, "returned")
		b.runOK(t)
		before := b.emu.Balance()

		b.tick(time.Hour)
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		require.NoError(t, b.emu.FailAfterSuccess(txn(t, p)))
		b.tick(time.Hour)
		require.NoError(t, b.emu.ReturnComplete(txn(t, p)))
		returnedAt := b.clock.Now()
		b.settle(t)
		require.Equal(t, before+25_000+250, b.emu.Balance(), "amount and fee came back")

		b.tick(time.Minute)
		run := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["payouts_healed"])
		got := b.payout(t, p.ID)
		require.Equal(t, models.StatusFailed, got.Status)
		require.Equal(t, coinflow.ReturnCompleted, *got.ReturnStatus)
		require.NotNil(t, got.ReturnedAt)
		require.True(t, returnedAt.Equal(*got.ReturnedAt))
		h := b.lastApplied(t, p.ID)
		require.Equal(t, models.SourceReconcile, h.Source)
		require.Equal(t, models.ReasonTerminalChanged, h.Reason)
		// The credit is explained by the return: no wallet_drift.
		b.requireOpen(t, key{models.KindStatusMismatch, "terminal:" + p.ID, models.SeverityError})
	})
}

func TestBlockedAndRejectedWithdrawers(t *testing.T) {
	t.Parallel()
	opts := options{withdrawers: []coinflowtest.WithdrawerSpec{
		{UserID: "u-block", BankToken: bankToken}, {UserID: "u-reject", BankToken: bankToken},
	}}
	each(t, opts, func(t *testing.T, b *bundle) {
		pb := b.pay(t, "u-block", 10_000, "asap", "to-blocked")
		pr := b.pay(t, "u-reject", 20_000, "asap", "to-rejected")
		run := b.runOK(t)
		require.Equal(t, int64(3), counts(t, run)["withdrawers_synced"])
		require.Equal(t, int64(1), counts(t, run)["withdrawers_changed"],
			"first sight of u-ok; the two paid were recorded when initiation asked Coinflow about them")
		b.requireOpen(t)

		require.NoError(t, b.emu.SetBlocked("u-block", true))
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1}) // KYC Failure lost
		require.NoError(t, b.emu.SetVerification("u-reject", coinflowtest.VerificationRejected))
		b.settle(t)
		b.tick(time.Minute)
		run = b.runOK(t)
		require.Equal(t, int64(2), counts(t, run)["withdrawers_changed"])
		open := b.requireOpen(t,
			key{models.KindUnverifiedWithdrawer, pb.ID, models.SeverityError},
			key{models.KindUnverifiedWithdrawer, pr.ID, models.SeverityWarning},
		)
		requireDetails(t, models.Details{"verification_status": "approved", "blocked": true, "payout_status": "pending"},
			open[string(models.KindUnverifiedWithdrawer)+" "+pb.ID])
		requireDetails(t, models.Details{"verification_status": "rejected", "blocked": false, "payout_status": "pending"},
			open[string(models.KindUnverifiedWithdrawer)+" "+pr.ID])

		wb, err := b.store.WithdrawerGet(t.Context(), "u-block")
		require.NoError(t, err)
		require.True(t, wb.Blocked)
		require.Equal(t, models.VerificationApproved, wb.VerificationStatus)
		require.NotNil(t, wb.LastSyncedAt)
		require.True(t, b.clock.Now().Equal(*wb.LastSyncedAt))
		wr, err := b.store.WithdrawerGet(t.Context(), "u-reject")
		require.NoError(t, err)
		require.False(t, wr.Blocked)
		require.Equal(t, models.VerificationRejected, wr.VerificationStatus)
		hs, err := b.store.WithdrawerHistoryList(t.Context(), "u-reject")
		require.NoError(t, err)
		require.Equal(t, models.SourceReconcile, hs[len(hs)-1].Source)
		require.True(t, hs[len(hs)-1].Applied)

		require.NoError(t, b.emu.SetBlocked("u-block", false))
		require.NoError(t, b.emu.SetVerification("u-reject", coinflowtest.VerificationApproved))
		b.settle(t)
		b.tick(time.Minute)
		run = b.runOK(t)
		require.Equal(t, int64(2), counts(t, run)["findings_resolved"])
		b.requireOpen(t)
		wb, err = b.store.WithdrawerGet(t.Context(), "u-block")
		require.NoError(t, err)
		require.False(t, wb.Blocked)
	})
}

func TestLowBalance(t *testing.T) {
	t.Parallel()
	opts := options{balanceCents: 100_000, cfg: reconcile.Config{LowBalanceCents: 60_000}}
	each(t, opts, func(t *testing.T, b *bundle) {
		b.runOK(t)
		b.requireOpen(t)

		b.tick(time.Minute)
		b.pay(t, userOK, 30_000, "standard", "low-a")
		b.tick(time.Minute)
		run := b.runOK(t)
		require.Equal(t, int64(69_950), counts(t, run)["balance_cents"])
		b.requireOpen(t)

		b.tick(time.Minute)
		pb := b.pay(t, userOK, 30_000, "standard", "low-b")
		b.tick(time.Minute)
		b.runOK(t)
		open := b.requireOpen(t, key{models.KindWalletLowBalance, "wallet", models.SeverityError})
		first := open[string(models.KindWalletLowBalance)+" wallet"]
		requireDetails(t, models.Details{"balance_cents": 39_900, "floor_cents": 60_000, "in_flight_cents": 60_100, "in_flight_unpriced_payouts": 0}, first)

		// Both complete: nothing in flight, still under the floor.
		b.tick(49 * time.Hour)
		b.settle(t)
		b.runOK(t)
		open = b.requireOpen(t, key{models.KindWalletLowBalance, "wallet", models.SeverityWarning})
		again := open[string(models.KindWalletLowBalance)+" wallet"]
		require.Equal(t, first.ID, again.ID, "the same finding, updated")
		require.True(t, first.FirstSeenAt.Equal(again.FirstSeenAt))
		require.True(t, b.clock.Now().Equal(again.LastSeenAt))
		requireDetails(t, models.Details{"balance_cents": 39_900, "floor_cents": 60_000, "in_flight_cents": 0, "in_flight_unpriced_payouts": 0}, again)

		// A bank return brings the money back above the floor.
		b.tick(time.Minute)
		require.NoError(t, b.emu.FailAfterSuccess(txn(t, pb)))
		require.NoError(t, b.emu.ReturnComplete(txn(t, pb)))
		b.settle(t)
		b.tick(time.Minute)
		run = b.runOK(t)
		b.requireOpen(t, key{models.KindStatusMismatch, "terminal:" + pb.ID, models.SeverityError})
		b.requireResolved(t, run, models.KindWalletLowBalance, "wallet")
	})
}

func TestWalletDriftExplainedAndUnexplained(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		b.runOK(t)

		// Payouts made between two runs explain the balance's fall.
		b.tick(time.Minute)
		b.pay(t, userOK, 10_000, "asap", "drift-a")
		toFail := b.pay(t, userOK, 20_000, "standard", "drift-b")
		b.tick(time.Minute)
		b.runOK(t)
		b.requireOpen(t)

		// Money that leaves with no payout behind it does not.
		b.tick(time.Minute)
		b.emu.SetBalance(b.emu.Balance() - 12_345)
		b.tick(time.Minute)
		b.runOK(t)
		snaps := b.snapshots(t)
		require.Len(t, snaps, 3)
		prev, cur := snaps[1], snaps[2]
		subject := driftSubject(prev, cur)
		open := b.requireOpen(t, key{models.KindWalletDrift, subject, models.SeverityError})
		requireDetails(t, models.Details{
			"from": prev.TakenAt, "to": cur.TakenAt,
			"balance_before_cents": prev.BalanceCents, "balance_after_cents": cur.BalanceCents, "change_cents": -12_345,
			"explained_cents": 0,
			"explained_by": models.Details{
				"payouts_cents": 0, "merchant_fees_cents": 0, "foreign_payouts_usd_cents": 0, "failures_and_returns_cents": 0,
			},
			"unexplained_cents": -12_345, "tolerance_cents": 0,
		}, open[string(models.KindWalletDrift)+" "+subject])
		require.Equal(t, prev.BalanceCents-12_345, cur.BalanceCents)

		// A payout, a refunded failure and an unexplained 7.77 in one interval.
		b.tick(time.Minute)
		b.pay(t, userOK, 5_000, "asap", "drift-c")
		require.NoError(t, b.emu.Fail(txn(t, toFail), "account closed"))
		b.settle(t)
		b.emu.SetBalance(b.emu.Balance() + 777)
		b.tick(time.Minute)
		b.runOK(t)
		require.Equal(t, models.StatusFailed, b.payout(t, toFail.ID).Status)
		require.Equal(t, coinflow.ReturnCompleted, *b.payout(t, toFail.ID).ReturnStatus)
		snaps = b.snapshots(t)
		require.Len(t, snaps, 4)
		prev2, cur2 := snaps[2], snaps[3]
		subject2 := driftSubject(prev2, cur2)
		open = b.requireOpen(t,
			key{models.KindWalletDrift, subject, models.SeverityError},
			key{models.KindWalletDrift, subject2, models.SeverityError},
		)
		explained := int64(-5_000 - 250 + 20_000 + 50)
		requireDetails(t, models.Details{
			"from": prev2.TakenAt, "to": cur2.TakenAt,
			"balance_before_cents": prev2.BalanceCents, "balance_after_cents": cur2.BalanceCents, "change_cents": explained + 777,
			"explained_cents": explained,
			"explained_by": models.Details{
				"payouts_cents": -5_000, "merchant_fees_cents": -250, "foreign_payouts_usd_cents": 0, "failures_and_returns_cents": 20_050,
			},
			"unexplained_cents": 777, "tolerance_cents": 0,
		}, open[string(models.KindWalletDrift)+" "+subject2])
	})
}

func TestDriftWithinToleranceIsLetPass(t *testing.T) {
	t.Parallel()
	each(t, options{cfg: reconcile.Config{DriftToleranceCents: 10}}, func(t *testing.T, b *bundle) {
		b.runOK(t)
		b.tick(time.Minute)
		b.emu.SetBalance(b.emu.Balance() - 10)
		b.tick(time.Minute)
		b.runOK(t)
		b.requireOpen(t)

		b.tick(time.Minute)
		b.emu.SetBalance(b.emu.Balance() + 11)
		b.tick(time.Minute)
		b.runOK(t)
		snaps := b.snapshots(t)
		b.requireOpen(t, key{models.KindWalletDrift, driftSubject(snaps[1], snaps[2]), models.SeverityError})
	})
}

func driftSubject(prev, cur models.WalletSnapshot) string {
	return "wallet:" + strconv.FormatInt(prev.ID, 10) + "-" + strconv.FormatInt(cur.ID, 10)
}

func TestRerunUpdatesInsteadOfDuplicatingAndResolvesWhatIsFixed(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "rerun-amount")
		require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = ? WHERE id = ?", 26_000, p.ID).Error)
		b.emu.SetDowngrade("asap", "standard")
		slow := b.pay(t, userOK, 5_000, "asap", "rerun-speed")
		w, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: userOK, AmountCents: 700, Speed: "standard", NoWebhooks: true})
		require.NoError(t, err)
		want := []key{
			{models.KindAmountMismatch, p.ID, models.SeverityError},
			{models.KindSpeedMismatch, slow.ID, models.SeverityWarning},
			{models.KindMissingLocally, w.Transaction, models.SeverityWarning},
		}

		run1 := b.runOK(t)
		require.Equal(t, int64(3), counts(t, run1)["findings_opened"])
		first := b.requireOpen(t, want...)
		n := b.countFindings(t)
		require.EqualValues(t, 3, n)

		b.tick(time.Minute)
		run2 := b.runOK(t)
		c := counts(t, run2)
		require.NotContains(t, c, "findings_opened")
		require.Equal(t, int64(3), c["findings_raised"], "every condition is seen again")
		second := b.requireOpen(t, want...)
		require.Equal(t, n, b.countFindings(t), "no duplicates")
		for k, f := range second {
			require.Equal(t, first[k].ID, f.ID, k)
			require.True(t, first[k].FirstSeenAt.Equal(f.FirstSeenAt), k)
			require.Equal(t, run1.ID, *f.FirstRunID, k)
			require.True(t, b.clock.Now().Equal(f.LastSeenAt), "%s: last_seen_at %s", k, f.LastSeenAt)
			require.Equal(t, run2.ID, *f.LastRunID, k)
		}

		require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = ? WHERE id = ?", 25_000, p.ID).Error)
		b.tick(time.Minute)
		run3 := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run3)["findings_resolved"])
		b.requireOpen(t, want[1:]...)
		b.requireResolved(t, run3, models.KindAmountMismatch, p.ID)
		require.Equal(t, n, b.countFindings(t))
	})
}

func TestLostPayAnswerIsSettledByTheKey(t *testing.T) {
	t.Parallel()
	each(t, options{client: coinflow.Config{Timeout: 750 * time.Millisecond}}, func(t *testing.T, b *bundle) {
		// Coinflow pays, but neither its answer nor its webhook arrives.
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Hang: 10 * time.Second})
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		var got struct {
			Payout struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"payout"`
		}
		req := map[string]any{
			"user_id": userOK, "amount": map[string]any{"cents": 9_900, "currency": "USD"},
			"speed": "standard", "account": bankToken, "idempotency_key": "lost-answer",
		}
		require.Equal(t, http.StatusServiceUnavailable, b.srv.API(t, http.MethodPost, "/api/v1/payouts", req, &got))
		require.Equal(t, "unknown", got.Payout.Status)
		b.emu.ClearAPIFaults()
		b.settle(t)
		w, ok := b.emu.WithdrawByIdempotencyKey("lost-answer")
		require.True(t, ok)

		b.tick(time.Minute)
		run := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["payouts_healed"])
		require.NotContains(t, counts(t, run), "payouts_discovered")
		p := b.payout(t, got.Payout.ID)
		require.Equal(t, models.StatusPending, p.Status)
		require.Equal(t, w.Transaction, txn(t, p))
		require.Equal(t, "standard", *p.EffectiveSpeed)
		require.Equal(t, usd(50), p.MerchantFees)
		require.Equal(t, models.SourceReconcile, b.lastApplied(t, p.ID).Source)
		b.requireOpen(t)
	})
}

// A run that finds nothing new should leave a payout's history alone:
// history is the record of evidence that mattered, and the reconciler
// compares every payout in a 35-day window every few minutes.
func TestRerunWritesNoHistoryForUnchangedPayouts(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.payCompleted(t, "quiet")
		b.runOK(t)
		before, err := b.store.PayoutHistoryList(t.Context(), p.ID)
		require.NoError(t, err)
		for range 3 {
			b.tick(time.Minute)
			b.runOK(t)
		}
		after, err := b.store.PayoutHistoryList(t.Context(), p.ID)
		require.NoError(t, err)
		require.Len(t, after, len(before), "history rows added by runs that changed nothing")
	})
}

// A disagreement that persists is recorded in history once, when its
// finding opens, not again by every run that still sees it.
func TestPersistingDisagreementWritesHistoryOnce(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		p := b.pay(t, userOK, 25_000, "asap", "local-ahead-once")
		b.tick(time.Minute)
		require.True(t, b.apply(t, p.ID, models.StatusCompleted, b.clock.Now()).Healed)
		b.runOK(t)
		first, err := b.store.PayoutHistoryList(t.Context(), p.ID)
		require.NoError(t, err)
		for range 2 {
			b.tick(time.Second) // Coinflow's asap payout stays pending (3 minutes)
			b.runOK(t)
		}
		after, err := b.store.PayoutHistoryList(t.Context(), p.ID)
		require.NoError(t, err)
		require.Len(t, after, len(first))
		b.requireOpen(t, key{models.KindStatusMismatch, p.ID, models.SeverityWarning})
	})
}
