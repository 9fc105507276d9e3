package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// What the demo's withdrawers send payoutd. None of it may reach the demo's
// output: the lines show what payoutd answers, a number's last four digits
// at most (Secrets lists what must never show).
const (
	aliceSSN     = "536-22-8147"
	aliceDOB     = "1988-07-19"
	aliceAccount = "004417352981"
	aliceCard    = "tok_demo_card_5524"
	gretaIBAN    = "DE89370400440532013000"
	gretaBIC     = "COBADEFFXXX"
	joaoPIX      = "+5511987650042"
)

// Secrets are the identity and account numbers the demo's withdrawers send
// payoutd: the SSN (as sent and as digits), the date of birth, the bank
// account number, the card token, the IBAN and the PIX key. The demo's
// output shows none of them.
func Secrets() []string {
	return []string{aliceSSN, strings.ReplaceAll(aliceSSN, "-", ""), aliceDOB, aliceAccount, aliceCard, gretaIBAN, joaoPIX}
}

// Foreign payouts: what greta (Germany, IBAN) and joao (Brazil, PIX) are
// paid, in their destination's currency.
var (
	gretaPayout = money{Cents: 10_000, Currency: "EUR"}
	joaoPayout  = money{Cents: 50_000, Currency: "BRL"}
)

// onboarded is what the script pays to: the tokens payoutd answered for the
// destinations the onboarding saved.
type onboarded struct {
	aliceBank, aliceCard, gretaIBAN, joaoPIX string
}

// onboarder prints one line per API call of the onboarding.
type onboarder struct {
	ctx context.Context
	c   *Client
	out io.Writer
	// catchUp brings Coinflow's clock up to the wall clock: Coinflow dates
	// its KYC Success by it, and payoutd ignores news older than what it
	// knows already (the registration, dated by payoutd's clock).
	catchUp func()
}

func (o *onboarder) line(user, step, detail, answer string) {
	fmt.Fprintf(o.out, "  %-6s %-9s %16s  -> %s\n", user, step, detail, answer)
}

// onboard does what a merchant's backend does for new withdrawers, all
// through payoutd's API: it registers alice (US, full identity: approved
// at once) and saves her bank account and card; it takes greta (Germany)
// and joao (Brazil) through Coinflow's hosted verification, waits for
// payoutd to learn the outcome, saves greta's IBAN (Coinflow first asks
// for its BIC) and quotes it, and saves joao's PIX key.
func onboard(ctx context.Context, c *Client, catchUp func(), out io.Writer) (onboarded, error) {
	o := &onboarder{ctx: ctx, c: c, out: out, catchUp: catchUp}
	var got onboarded
	if _, err := o.register(map[string]any{
		"user_id": "alice", "email": "alice@example.com", "country": "US", "first_name": "Alice", "last_name": "Example",
		"ssn": aliceSSN, "dob": aliceDOB,
		"address": map[string]any{"line1": "1 Main St", "city": "Austin", "state": "TX", "zip": "78701"},
	}, http.StatusCreated); err != nil {
		return got, err
	}
	bank, err := o.save("alice", "bank", map[string]any{
		"type": "bank_account", "routing_number": "021000021", "account_number": aliceAccount, "account_type": "checking", "name": "Alice Example",
	})
	if err != nil {
		return got, err
	}
	card, err := o.save("alice", "card", map[string]any{"type": "card", "card_token": aliceCard, "exp_month": "09", "exp_year": "31"})
	if err != nil {
		return got, err
	}
	got.aliceBank, got.aliceCard = bank.Token, card.Token

	if err := o.verify("greta", "DE"); err != nil {
		return got, err
	}
	iban := map[string]any{"type": "iban", "iban": gretaIBAN, "account_holder": "Greta Example"}
	d, status, err := c.saveDestination(ctx, "greta", iban)
	if err != nil {
		return got, err
	}
	if status != http.StatusUnprocessableEntity || d.Error.Code != "bic_required" {
		return got, fmt.Errorf("save greta's IBAN without a BIC: status %d %s, want 422 bic_required", status, d.Error.Code)
	}
	o.line("greta", "save", "iban …"+gretaIBAN[len(gretaIBAN)-4:], fmt.Sprintf("%d %s, again with the BIC:", status, d.Error.Code))
	iban["bic"] = gretaBIC
	if d, err = o.save("greta", "iban+BIC", iban); err != nil {
		return got, err
	}
	got.gretaIBAN = d.Token
	quotes, status, err := c.quote(ctx, "greta", gretaPayout, d.Token)
	if err != nil {
		return got, err
	}
	if status != http.StatusOK || len(quotes) == 0 {
		return got, fmt.Errorf("quote greta's payout: status %d", status)
	}
	for _, q := range quotes {
		o.line("greta", "quote", gretaPayout.String(), fmt.Sprintf("%d %s: receives %s, wallet debit %s", status, q.Speed, q.UserReceives, q.WalletDebit))
	}

	if err := o.verify("joao", "BR"); err != nil {
		return got, err
	}
	pix, err := o.save("joao", "pix", map[string]any{"type": "pix", "key": joaoPIX})
	if err != nil {
		return got, err
	}
	got.joaoPIX = pix.Token
	return got, nil
}

// register registers the withdrawer body describes, requires status want
// and prints the line.
func (o *onboarder) register(body map[string]any, want int) (withdrawer, error) {
	user := fmt.Sprint(body["user_id"])
	w, status, err := o.c.register(o.ctx, body)
	if err != nil {
		return w, err
	}
	if status != want {
		return w, fmt.Errorf("register %s: status %d %s, want %d", user, status, w.Error.Code, want)
	}
	answer := fmt.Sprintf("%d %s", status, w.VerificationStatus)
	if w.VerificationLink != nil {
		answer += ", verify at " + *w.VerificationLink
	}
	o.line(user, "register", fmt.Sprint(body["country"]), answer)
	return w, nil
}

// save saves a destination of user, requires 201 and prints what payoutd
// shows of it after label: last four, currency and speeds.
func (o *onboarder) save(user, label string, body map[string]any) (destination, error) {
	d, status, err := o.c.saveDestination(o.ctx, user, body)
	if err != nil {
		return d, err
	}
	if status != http.StatusCreated {
		return d, fmt.Errorf("save %s's %s: status %d %s", user, body["type"], status, d.Error.Code)
	}
	if d.Last4 != "" {
		label += " …" + d.Last4
	}
	o.line(user, "save", label, fmt.Sprintf("%d %s %s", status, d.Currency, strings.Join(d.Speeds, ", ")))
	return d, nil
}

// verify registers user in country with an email only (202: Coinflow wants
// the person on its hosted page), completes verification at the link as
// the person's browser would, and waits for payoutd to see the withdrawer
// approved: Coinflow's KYC Success webhook, or payoutd's polling.
func (o *onboarder) verify(user, country string) error {
	w, err := o.register(map[string]any{"user_id": user, "email": user + "@example.com", "country": country}, http.StatusAccepted)
	if err != nil {
		return err
	}
	if w.VerificationLink == nil || *w.VerificationLink == "" {
		return fmt.Errorf("register %s: no verification link", user)
	}
	o.catchUp()
	status, err := o.c.completeAtLink(o.ctx, *w.VerificationLink)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("complete %s's verification: status %d", user, status)
	}
	o.line(user, "verify", "POST link", fmt.Sprintf("%d approved on Coinflow's hosted page", status))
	start := time.Now()
	ctx, cancel := context.WithTimeout(o.ctx, applyTimeout)
	defer cancel()
	for {
		w, err := o.c.withdrawer(ctx, user)
		if err != nil {
			return fmt.Errorf("wait for payoutd to see %s approved: %w", user, err)
		}
		if w.VerificationStatus == "approved" {
			o.line(user, "status", "GET withdrawer", fmt.Sprintf("200 approved, %s after", time.Since(start).Round(10*time.Millisecond)))
			return nil
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return fmt.Errorf("wait for payoutd to see %s approved, still %s: %w", user, w.VerificationStatus, err)
		}
	}
}
