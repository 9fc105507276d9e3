package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// Play scripts the payouts: every speed, an over-limit same-day, an
// unexpected downgrade, dropped and duplicated webhooks, a failure, a
// return, a stuck payout, a blocked withdrawer, a payout made outside
// payoutd and, through all of it, a wallet falling under its floor. It
// prints one line per payout to out.
func Play(ctx context.Context, c *Client, emu *coinflowtest.Emulator, out io.Writer) error {
	const bank, card = "bnk_demoAlice0001", "crd_demoAlice0001"
	for _, w := range []coinflowtest.WithdrawerSpec{
		{UserID: "alice", Verification: "approved", BankToken: bank, CardToken: card},
		{UserID: "bob", Verification: "pending"},
		{UserID: "carol", Verification: "approved", BankToken: "bnk_demoCarol0001"},
		{UserID: "dave", Verification: "approved", BankToken: "bnk_demoDave00001"},
	} {
		if _, err := emu.AddWithdrawer(w); err != nil {
			return fmt.Errorf("add withdrawer %s: %w", w.UserID, err)
		}
	}
	pay := func(user string, cents int64, speed, account string) (map[string]any, error) {
		p, status, err := c.payout(ctx, user, cents, speed, account)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "  %-6s %-9s %16s  -> %d %v\n", user, speed, formatCents(cents), status, p["status"])
		return p, nil
	}
	txn := func(p map[string]any) string {
		cf, _ := p["coinflow"].(map[string]any)
		s, _ := cf["transaction"].(string)
		return s
	}

	// Duplicated webhooks for the first payouts: stored once, applied once.
	emu.SetWebhookFaults(coinflowtest.WebhookFaults{Duplicate: true})
	for _, p := range []struct {
		speed, account string
		cents          int64
	}{{"asap", bank, 2500}, {"same_day", bank, 48000}, {"standard", bank, 120000}, {"card", card, 4999}} {
		if _, err := pay("alice", p.cents, p.speed, p.account); err != nil {
			return err
		}
	}
	if _, err := pay("dave", 125_000_000, "same_day", "bnk_demoDave00001"); err != nil { // NACHA: becomes standard
		return err
	}
	emu.SetDowngrade("asap", "standard")
	if _, err := pay("dave", 30000, "asap", "bnk_demoDave00001"); err != nil { // an unexpected downgrade
		return err
	}
	emu.SetDowngrade("asap", "")
	if _, err := pay("carol", 7500, "asap", "bnk_demoCarol0001"); err != nil {
		return err
	}
	if err := emu.SetBlocked("carol", true); err != nil {
		return err
	}
	if _, status, err := c.payout(ctx, "bob", 1000, "asap", "bnk_none"); err != nil {
		return err
	} else {
		fmt.Fprintf(out, "  %-6s %-9s %16s  -> %d verification required\n", "bob", "asap", formatCents(1000), status)
	}
	failed, err := pay("alice", 1999, "card", card)
	if err != nil {
		return err
	}
	if err := emu.Fail(txn(failed), "Card is not eligible for disbursements"); err != nil {
		return err
	}
	stuck, err := pay("alice", 6000, "asap", bank)
	if err != nil {
		return err
	}
	if err := emu.Stuck(txn(stuck)); err != nil {
		return err
	}
	returned, err := pay("alice", 15000, "asap", bank)
	if err != nil {
		return err
	}
	if _, err := emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "dave", AmountCents: 5000, Speed: "asap", NoWebhooks: true}); err != nil {
		return err
	}
	// Lose the next webhooks: reconciliation must heal what they carried.
	emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 3})

	fmt.Fprintln(out, "letting payouts settle (seconds stand for hours)…")
	if err := sleepCtx(ctx, 7*time.Second); err != nil {
		return err
	}
	if err := emu.FailAfterSuccess(txn(returned)); err != nil {
		return fmt.Errorf("return payout: %w", err)
	}
	if err := emu.ReturnComplete(txn(returned)); err != nil {
		return fmt.Errorf("complete return: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := emu.WaitWebhooks(waitCtx); err != nil {
		return fmt.Errorf("wait for webhooks: %w", err)
	}
	return sleepCtx(ctx, time.Second) // let the applier catch up
}

func formatCents(c int64) string {
	return fmt.Sprintf("%d.%02d USD", c/100, c%100)
}
