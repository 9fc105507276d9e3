package dashboard

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

// RunbookEntry is what finance reads about one finding kind: its name in
// finance words, one sentence of what it means and one of what to do.
type RunbookEntry struct {
	Kind    models.FindingKind
	Title   string
	Meaning string
	Action  string
}

// Anchor is the entry's fragment on the runbook page.
func (e RunbookEntry) Anchor() string { return "/runbook#" + string(e.Kind) }

// runbook is the one text of every kind: the findings page, a finding's
// row, the /runbook page and README's "Runbook" section show it, and a
// test holds README to it word for word.
var runbook = map[models.FindingKind]RunbookEntry{
	models.KindStatusMismatch: {
		Title:   "Status differs from Coinflow",
		Meaning: "payoutd and Coinflow disagree on where a payout stands: Coinflow changed a payout it had already finished (a success that later failed, usually a bank return, or a failure paid after all), or Coinflow's record is behind payoutd's.",
		Action:  "Compare the payout's history with the withdrawal in Coinflow's dashboard; if money came back or went out after all, book the correction in the ledger and tell the recipient, then acknowledge with what you did.",
	},
	models.KindMissingLocally: {
		Title:   "Payout payoutd did not make",
		Meaning: "Coinflow shows a withdrawal from the merchant's wallet that payoutd did not initiate, or one that reused another payout's idempotency key.",
		Action:  "Find who sent it (another system, or someone in Coinflow's dashboard); if it was meant, record it in the ledger; if not, contact Coinflow support at once with the transaction.",
	},
	models.KindMissingAtCoinflow: {
		Title:   "Payout not found at Coinflow",
		Meaning: "payoutd recorded a payout that Coinflow still does not list after the grace period: the request may never have reached Coinflow, and no money moved for it.",
		Action:  "Search Coinflow's dashboard for the payout's idempotency key; if Coinflow has nothing, tell whoever asked for the payout and pay it again if it is still owed.",
	},
	models.KindAmountMismatch: {
		Title:   "Amount differs from Coinflow",
		Meaning: "Coinflow's amount for a payout is not the amount payoutd asked for, or two deliveries of one Coinflow message disagree on the amount, fees, user or idempotency key.",
		Action:  "Compare the amounts shown with the withdrawal in Coinflow's dashboard; book any difference in the ledger and ask Coinflow support if Coinflow paid the wrong amount.",
	},
	models.KindSpeedMismatch: {
		Title:   "Paid at another speed",
		Meaning: "Coinflow paid a payout at another speed than the one requested; when it is expected, it is a same-day ACH payout over NACHA's 1,000,000.00 USD limit, sent standard as the rules require.",
		Action:  "If it is expected, only tell the recipient it arrives later; otherwise check the fee charged against the speed delivered and ask Coinflow support why it was downgraded.",
	},
	models.KindStuckPayout: {
		Title:   "Payout overdue",
		Meaning: "A payout is still pending or in review after the time it was due to arrive.",
		Action:  "Look the withdrawal up in Coinflow's dashboard and ask Coinflow support why it has not arrived; tell the recipient, and snooze the finding until the date Coinflow gives.",
	},
	models.KindUnverifiedWithdrawer: {
		Title:   "Paid to an unverified withdrawer",
		Meaning: "A payout went to a withdrawer whose identity verification (KYC) is not approved, or who is blocked.",
		Action:  "Check the withdrawer's verification in Coinflow; make no more payouts to them until it is approved, and escalate to compliance if they are blocked.",
	},
	models.KindWalletLowBalance: {
		Title:   "Wallet balance low",
		Meaning: "The Coinflow wallet holds less than the configured floor, or less than the payouts still in flight will take.",
		Action:  "Top up the Coinflow wallet before the next payouts; until then new payouts may be refused for insufficient funds.",
	},
	models.KindWalletDrift: {
		Title:   "Wallet change not explained",
		Meaning: "The wallet balance changed between two readings by more than the payouts, fees, failures and returns payoutd knows of explain.",
		Action:  "Compare the wallet's activity in Coinflow's dashboard over that period with payoutd's payouts, find the movement payoutd did not record (a manual withdrawal, a deposit, a fee) and book it.",
	},
	models.KindWebhookUnprocessable: {
		Title:   "Coinflow message unreadable",
		Meaning: "Coinflow sent an authentic message that payoutd could not read, so the payout or withdrawer it concerns may not be up to date.",
		Action:  "Ask an engineer to look at the stored message; once payoutd is fixed, replay it from the message's page (reconciliation keeps payouts right meanwhile).",
	},
	models.KindKYCStalled: {
		Title:   "Verification stalled",
		Meaning: "A withdrawer has been waiting on identity verification (KYC) for longer than allowed.",
		Action:  "Ask the withdrawer to finish verification on Coinflow's page, or ask Coinflow support what is missing.",
	},
	models.KindWebhookHeaderAuth: {
		Title:   "Messages sent with the key in the clear",
		Meaning: "Coinflow messages arrived authenticated only by the Authorization header, which carries the webhook key itself.",
		Action:  "Ask an engineer to find what strips Coinflow's signature or who sends these, and rotate the webhook key in Coinflow's dashboard.",
	},
	models.KindWebhookUndelivered: {
		Title:   "Coinflow message not delivered",
		Meaning: "Coinflow's webhook log shows a message to payoutd that never arrived; payoutd has asked Coinflow to send it again.",
		Action:  "Nothing while it clears by itself; if it stays open for hours, ask an engineer to check that Coinflow can reach payoutd.",
	},
}

// Runbook lists every finding kind's entry, in SPEC's order.
func Runbook() []RunbookEntry {
	kinds := models.FindingKinds()
	out := make([]RunbookEntry, len(kinds))
	for i, k := range kinds {
		out[i] = runbookFor(k)
	}
	return out
}

// runbookFor is kind's entry; a kind without one (none today) is named in
// words and sent to the runbook page.
func runbookFor(kind models.FindingKind) RunbookEntry {
	e, ok := runbook[kind]
	if !ok {
		return RunbookEntry{Kind: kind, Title: human(kind)}
	}
	e.Kind = kind
	return e
}

// RunbookMarkdown is the runbook as README's "Runbook" section holds it,
// after the section's heading and introduction.
func RunbookMarkdown() string {
	var b strings.Builder
	for _, e := range Runbook() {
		b.WriteString("#### `" + string(e.Kind) + "`: " + e.Title + "\n\n")
		b.WriteString("**What it means.** " + e.Meaning + "\n\n")
		b.WriteString("**What to do.** " + e.Action + "\n\n")
	}
	return b.String()
}

func (h *handler) runbook(c *gin.Context) {
	h.render(c, http.StatusOK, "runbook", view{Title: "Runbook", Active: "runbook", Data: Runbook()})
}
