package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// applyTimeout bounds the wait for payoutd to apply what Coinflow sent: the
// emulator retries a refused webhook for a minute before it gives up.
const applyTimeout = time.Minute

// Config is what Play must know of the payoutd it plays against.
type Config struct {
	// StuckGrace is payoutd's reconcile stuck grace: how long past its
	// expected delivery date a pending payout becomes stuck.
	StuckGrace time.Duration
}

// Play onboards withdrawers through payoutd's API (see onboard: a US one
// approved at once, a German and a Brazilian one through Coinflow's hosted
// verification), then scripts the payouts: every speed, EUR to an IBAN
// and BRL to a PIX key, an over-limit same-day, an
// unexpected downgrade, dropped and duplicated webhooks, a failure, a
// return, a stuck payout, a blocked withdrawer, a payout made outside
// payoutd and, through all of it, a wallet falling under its floor. It
// prints one line per payout to out and returns once payoutd has applied
// every webhook Coinflow delivered and the stuck payout is overdue, so that
// a reconciliation run then raises every kind of Kinds.
//
// Play moves the emulator's clock itself, so nothing else may move it
// while Play runs: which webhooks the faults hit must not depend on how
// fast the machine is.
func Play(ctx context.Context, c *Client, emu *coinflowtest.Emulator, cfg Config, out io.Writer) error {
	// bob, carol and dave are Coinflow's withdrawers already, registered
	// before payoutd: payouts to them show what reconciliation finds.
	for _, w := range []coinflowtest.WithdrawerSpec{
		{UserID: "bob", Verification: "pending"},
		{UserID: "carol", Verification: "approved", BankToken: "bnk_demoCarol0001"},
		{UserID: "dave", Verification: "approved", BankToken: "bnk_demoDave00001"},
	} {
		if _, err := emu.AddWithdrawer(w); err != nil {
			return fmt.Errorf("add withdrawer %s: %w", w.UserID, err)
		}
	}
	fmt.Fprintln(out, "onboarding withdrawers through payoutd's API…")
	dests, err := onboard(ctx, c, func() { emu.SetNow(time.Now()) }, out)
	if err != nil {
		return err
	}
	// Every webhook of the onboarding is delivered before the faults below.
	if err := emu.WaitWebhooks(ctx); err != nil {
		return fmt.Errorf("wait for webhooks: %w", err)
	}
	bank, card := dests.aliceBank, dests.aliceCard
	fmt.Fprintln(out, "sending payout traffic…")
	pay := func(user string, amount money, speed, account string) (payout, error) {
		p, status, err := c.createPayout(ctx, user, amount, speed, account)
		if err != nil {
			return payout{}, err
		}
		fmt.Fprintf(out, "  %-6s %-9s %16s  -> %d %s\n", user, speed, amount, status, p.Status)
		return p, nil
	}

	// Every payout is made at one instant of the emulator's clock, which
	// stands still until they all are: none can fall due, and send a
	// webhook, while the script is still making them.
	emu.SetNow(time.Now())
	// Duplicated webhooks for the first payouts: stored once, applied once.
	emu.SetWebhookFaults(coinflowtest.WebhookFaults{Duplicate: true})
	for _, p := range []struct {
		speed, account string
		cents          int64
	}{{"asap", bank, 2500}, {"same_day", bank, 48000}, {"standard", bank, 120000}, {"card", card, 4999}} {
		if _, err := pay("alice", usd(p.cents), p.speed, p.account); err != nil {
			return err
		}
	}
	// Paid in their destination's currency, debited from the USD wallet.
	if _, err := pay("greta", gretaPayout, "iban", dests.gretaIBAN); err != nil {
		return err
	}
	if _, err := pay("joao", joaoPayout, "pix", dests.joaoPIX); err != nil {
		return err
	}
	if _, err := pay("dave", usd(125_000_000), "same_day", "bnk_demoDave00001"); err != nil { // NACHA: becomes standard
		return err
	}
	emu.SetDowngrade("asap", "standard")
	if _, err := pay("dave", usd(30000), "asap", "bnk_demoDave00001"); err != nil { // an unexpected downgrade
		return err
	}
	emu.SetDowngrade("asap", "")
	if _, err := pay("carol", usd(7500), "asap", "bnk_demoCarol0001"); err != nil {
		return err
	}
	if err := emu.SetBlocked("carol", true); err != nil {
		return err
	}
	if _, status, err := c.createPayout(ctx, "bob", usd(1000), "asap", "bnk_none"); err != nil {
		return err
	} else {
		fmt.Fprintf(out, "  %-6s %-9s %16s  -> %d verification required\n", "bob", "asap", usd(1000), status)
	}
	failed, err := pay("alice", usd(1999), "card", card)
	if err != nil {
		return err
	}
	if err := emu.Fail(failed.Coinflow.Transaction, "Card is not eligible for disbursements"); err != nil {
		return err
	}
	stuck, err := pay("alice", usd(6000), "asap", bank)
	if err != nil {
		return err
	}
	if err := emu.Stuck(stuck.Coinflow.Transaction); err != nil {
		return err
	}
	returned, err := pay("alice", usd(15000), "asap", bank)
	if err != nil {
		return err
	}
	if _, err := emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "dave", AmountCents: 5000, Speed: "asap", NoWebhooks: true}); err != nil {
		return err
	}
	// Lose the next webhooks: reconciliation must heal what they carried.
	// The asap and card payouts fall due first and complete in the order
	// they were made, so the three lost are the Withdraw Success of alice's
	// first asap and card payouts and of carol's, never that of the payout
	// that comes back below.
	emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 3})

	fmt.Fprintln(out, "letting payouts settle (seconds stand for hours)…")
	first, last := dueRange(emu)
	if err := settle(ctx, emu, first); err != nil {
		return err
	}
	// The return is news only to a payoutd that saw the payout complete.
	if err := waitApplied(ctx, c, emu); err != nil {
		return err
	}
	if err := settle(ctx, emu, last); err != nil {
		return err
	}
	if err := emu.FailAfterSuccess(returned.Coinflow.Transaction); err != nil {
		return fmt.Errorf("return payout: %w", err)
	}
	if err := emu.ReturnComplete(returned.Coinflow.Transaction); err != nil {
		return fmt.Errorf("complete return: %w", err)
	}
	if err := waitApplied(ctx, c, emu); err != nil {
		return err
	}
	// payoutd judges a payout stuck by its own clock.
	if stuck.ExpectedDeliveryAt == nil {
		return errors.New("payoutd has no expected delivery date for the stuck payout")
	}
	return sleepCtx(ctx, time.Until(stuck.ExpectedDeliveryAt.Add(cfg.StuckGrace)))
}

// dueRange is the earliest and the latest expected delivery date of the
// US payouts that will complete on their own. The EUR and BRL payouts
// stay pending through the script: an IBAN transfer takes a day, a PIX one
// minutes, and the script moves the emulator's clock by seconds.
func dueRange(emu *coinflowtest.Emulator) (first, last time.Time) {
	for _, w := range emu.Withdraws() {
		if w.Status != coinflowtest.StatusPending || w.Stuck || w.Currency != "USD" {
			continue
		}
		if first.IsZero() || w.ExpectedDeliveryDate.Before(first) {
			first = w.ExpectedDeliveryDate
		}
		if w.ExpectedDeliveryDate.After(last) {
			last = w.ExpectedDeliveryDate
		}
	}
	return first, last
}

// settle moves the emulator's clock to at, which completes the payouts due
// by then and sends their webhooks. It first waits for the wall clock to
// reach at: payoutd dates what it learns by its own clock, which the
// emulator's must not run ahead of.
func settle(ctx context.Context, emu *coinflowtest.Emulator, at time.Time) error {
	if at.IsZero() {
		return nil
	}
	if err := sleepCtx(ctx, time.Until(at)); err != nil {
		return err
	}
	emu.SetNow(at)
	return nil
}

// waitApplied waits until the emulator has sent every webhook it queued
// and payoutd shows each payout in the status carried by the last webhook
// that reached it: payoutd has applied all it was told.
func waitApplied(ctx context.Context, c *Client, emu *coinflowtest.Emulator) error {
	ctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	if err := emu.WaitWebhooks(ctx); err != nil {
		return fmt.Errorf("wait for webhooks: %w", err)
	}
	want := map[string]string{}
	var txns []string
	for _, d := range emu.Deliveries() {
		status := withdrawStatus(d.EventType)
		if !d.Delivered || status == "" {
			continue
		}
		if _, ok := want[d.Transaction]; !ok {
			txns = append(txns, d.Transaction)
		}
		want[d.Transaction] = status
	}
	for _, txn := range txns {
		for {
			got, err := c.payoutStatus(ctx, txn)
			if err != nil {
				return fmt.Errorf("wait for payout %s to be %s: %w", txn, want[txn], err)
			}
			if got == want[txn] {
				break
			}
			if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
				return fmt.Errorf("wait for payout %s to be %s, still %q: %w", txn, want[txn], got, err)
			}
		}
	}
	return nil
}

// withdrawStatus is the payout status a Withdraw webhook carries; "" for
// other events.
func withdrawStatus(eventType string) string {
	switch eventType {
	case coinflowtest.EventWithdrawPending:
		return coinflowtest.StatusPending
	case coinflowtest.EventWithdrawSuccess:
		return coinflowtest.StatusCompleted
	case coinflowtest.EventWithdrawFailure:
		return coinflowtest.StatusFailed
	}
	return ""
}

func usd(cents int64) money { return money{Cents: cents, Currency: "USD"} }

// formatMoney writes cents of currency as 12.34 EUR (every currency the
// demo pays in has cents).
func formatMoney(cents int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", cents/100, cents%100, currency)
}
