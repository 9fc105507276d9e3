// Package dashboardtest seeds a store with what the dashboard shows and
// drives the dashboard over HTTP, for the dashboard's handler tests and the
// browser test in e2e.
package dashboardtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// Fixture is what Seed stored.
type Fixture struct {
	End      time.Time         // the clock when Seed returned
	Payouts  []*models.Payout  // oldest first, as created
	Search   *models.Payout    // a completed payout with a stale event in its history
	Findings []*models.Finding // as stored after Seed's changes
	// Open, Acked and Resolved are one finding in each state.
	Open, Acked, Resolved *models.Finding
	// Long is an open missing_locally finding whose subject and transaction
	// are LongValue.
	Long      *models.Finding
	Runs      []*models.ReconcileRun // oldest first
	Snapshots []*models.WalletSnapshot
	// Withdrawers are the payouts' users, registered before their payouts
	// (see seedWithdrawers), oldest first, as stored when Seed returned.
	Withdrawers []*models.Withdrawer
}

// Search payout identifiers, known to tests.
const (
	SearchUser        = "user-search-7"
	SearchTransaction = "sig-search-7f3a"
	SearchKey         = "idem-search-7f3a"
)

// LongValue is a 200-character Coinflow transaction, as long as a value a
// finding shows gets: a table must fit it without hiding its Action column.
var LongValue = strings.Repeat("5VfYt3kqGw9ZxR2mNb7LpQ4s", 9)[:200]

// LongCents is the amount of the Long finding's withdrawal, shown as
// 1,234,567.89 USD.
const LongCents = 123_456_789

// StuckOverdue is how late the first stuck payout is: "2 minutes 57
// seconds" on the dashboard.
const StuckOverdue = 177 * time.Second

// DaysSeeded is how many UTC days, ending on end's, hold seeded payouts.
const DaysSeeded = 10

// Seed fills store through its own methods, moving clock (the store's
// clock) back to spread the records over the DaysSeeded days before end and
// leaving it at end: withdrawers pending, approved, rejected and blocked,
// with history and destinations; payouts of every status with history from
// webhook, reconcile and api (one stale event among them); findings of
// several kinds, severities and states; reconciliation runs and wallet
// snapshots.
func Seed(t testing.TB, store *models.Store, clock *dbtest.Clock, end time.Time) *Fixture {
	t.Helper()
	ctx := t.Context()
	end = end.UTC()
	fx := &Fixture{End: end}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	statuses := []models.PayoutStatus{
		models.StatusCompleted, models.StatusPending, models.StatusCompleted, models.StatusFailed,
		models.StatusInReview, models.StatusCompleted, models.StatusRequested, models.StatusUnknown,
	}
	speeds := []string{"standard", "same_day", "asap"}
	startDay := end.Truncate(24*time.Hour).AddDate(0, 0, -(DaysSeeded - 1))
	users := seedWithdrawers(t, store, clock, startDay)
	n := 0
	for day := range DaysSeeded {
		perDay := 2 + day%3
		for j := range perDay {
			at := startDay.AddDate(0, 0, day).Add(time.Duration(9+j*3) * time.Hour)
			if at.After(end.Add(-time.Hour)) {
				at = end.Add(-time.Duration(perDay-j+1) * time.Hour)
			}
			clock.Set(at)
			n++
			p := &models.Payout{
				IdempotencyKey:      ptr(fmt.Sprintf("idem-%03d", n)),
				UserID:              fmt.Sprintf("user-%d", n%4),
				Amount:              models.Money{Cents: int64(12_500 + 7_300*n + 100_000*(n%3)), Currency: "USD"},
				RequestedSpeed:      ptr(speeds[n%len(speeds)]),
				Status:              models.StatusPending,
				CoinflowTransaction: ptr(fmt.Sprintf("sig-%03d", n)),
				AccountToken:        ptr(fmt.Sprintf("acct-secret-%03d", n)),
				Source:              models.OriginAPI,
			}
			must(store.PayoutCreate(ctx, p, models.SourceAPI, nil))
			if final := statuses[n%len(statuses)]; final != models.StatusPending {
				src := models.SourceWebhook
				if n%2 == 0 && final != models.StatusRequested && final != models.StatusUnknown {
					// Coinflow's record saying less than payoutd holds would be
					// a finding; a stale event is only recorded.
					src = models.SourceReconcile
				}
				clock.Set(at.Add(30 * time.Minute))
				apply(t, store, p, models.PayoutEvidence{Status: final, At: at.Add(25 * time.Minute), Source: src})
			}
			fx.Payouts = append(fx.Payouts, p)
		}
	}

	// The payout a search finds: completed by a webhook, then a late
	// pending event that is recorded but not applied.
	at := end.Add(-5 * time.Hour)
	clock.Set(at)
	s := &models.Payout{
		IdempotencyKey: ptr(SearchKey), UserID: SearchUser, Amount: models.Money{Cents: 98_765_43, Currency: "USD"},
		RequestedSpeed: ptr("same_day"), EffectiveSpeed: ptr("standard"), Status: models.StatusPending,
		CoinflowTransaction: ptr(SearchTransaction), AccountToken: ptr("acct-secret-search"), Source: models.OriginAPI,
	}
	must(store.PayoutCreate(ctx, s, models.SourceAPI, nil))
	clock.Set(at.Add(time.Hour))
	apply(t, store, s, models.PayoutEvidence{Status: models.StatusCompleted, At: at.Add(50 * time.Minute), Source: models.SourceWebhook})
	clock.Set(at.Add(2 * time.Hour))
	apply(t, store, s, models.PayoutEvidence{Status: models.StatusPending, At: at.Add(10 * time.Minute), Source: models.SourceReconcile})
	fx.Payouts = append(fx.Payouts, s)
	fx.Search = s

	// One payout in another currency, which the USD totals leave out.
	clock.Set(end.Add(-4 * time.Hour))
	eur := &models.Payout{
		IdempotencyKey: ptr("idem-eur-1"), UserID: ForeignUser, Amount: models.Money{Cents: 4_200_00, Currency: "EUR"},
		RequestedSpeed: ptr("standard"), Status: models.StatusPending, CoinflowTransaction: ptr("sig-eur-1"),
		Source: models.OriginDiscovered, WalletDebitCents: ptr(int64(ForeignDebitCents)), ExchangeRate: ptr(ForeignRate),
	}
	must(store.PayoutCreate(ctx, eur, models.SourceWebhook, nil))
	fx.Payouts = append(fx.Payouts, eur)

	// Runs with wallet snapshots, every six hours over the seeded days.
	balance := int64(5_000_000_00)
	for i, t0 := 0, startDay; t0.Before(end); i, t0 = i+1, t0.Add(6*time.Hour) {
		clock.Set(t0)
		run, err := store.RunCreate(ctx, "schedule")
		must(err)
		// Payouts draw the wallet down; a top-up comes every two days.
		balance -= 18_000_00 + int64(i%4)*6_500_00
		if i%8 == 7 {
			balance += 150_000_00
		}
		snap, err := store.WalletSnapshotAdd(ctx, run.ID, t0, balance)
		must(err)
		fx.Snapshots = append(fx.Snapshots, snap)
		clock.Set(t0.Add(1500 * time.Millisecond))
		run.Outcome = models.RunOK
		run.Counts = models.Details{"withdraws_seen": 40 + i, "payouts_checked": 38 + i}
		run.Problems = models.Details{}
		if i%7 == 3 {
			run.Outcome = models.RunPartial
			run.Problems = models.Details{"payouts": "coinflow answered 503"}
		}
		must(store.RunFinish(ctx, run))
		fx.Runs = append(fx.Runs, run)
	}
	lastRun := fx.Runs[len(fx.Runs)-1].ID

	// Findings: several kinds and severities; one acknowledged, one resolved.
	clock.Set(end.Add(-3 * time.Hour))
	raise := func(kind models.FindingKind, subject string, sev models.Severity, payoutID, userID string, details models.Details) *models.Finding {
		f := models.Finding{Kind: kind, Subject: subject, Severity: sev, Details: details, LastRunID: &lastRun}
		if payoutID != "" {
			f.PayoutID = &payoutID
		}
		if userID != "" {
			f.UserID = &userID
		}
		got, _, err := store.FindingRaise(ctx, f)
		must(err)
		clock.Advance(time.Minute)
		return got
	}
	// The details are shaped as the reconciler and the applier write them,
	// with values as long as the dashboard must fit (LongValue).
	p0, p1, p2, p3 := fx.Payouts[0], fx.Payouts[1], fx.Payouts[2], fx.Payouts[3]
	raise(models.KindStuckPayout, p1.ID, models.SeverityWarning, p1.ID, p1.UserID, models.Details{
		"status": "pending", "deadline": end.Add(-3*time.Hour - StuckOverdue), "deadline_basis": "window:standard",
		"overdue_seconds": int64(StuckOverdue / time.Second), "amount": p1.Amount,
	})
	raise(models.KindStuckPayout, p2.ID, models.SeverityWarning, p2.ID, p2.UserID, models.Details{
		"status": "in_review", "deadline": end.Add(-5 * time.Hour), "deadline_basis": "expected_delivery_date",
		"overdue_seconds": int64(2 * time.Hour / time.Second), "amount": p2.Amount,
	})
	fx.Open = raise(models.KindStatusMismatch, s.ID, models.SeverityError, s.ID, s.UserID, models.Details{
		"reason": decide.FindingTerminalChanged, "source": "webhook", "status": "completed", "coinflow_status": "failed",
		"inbox_event_id": 41,
	})
	raise(models.KindAmountMismatch, p3.ID, models.SeverityError, p3.ID, p3.UserID, models.Details{
		"local": p3.Amount, "coinflow": models.Money{Cents: p3.Amount.Cents + 100, Currency: p3.Amount.Currency},
		"transaction": LongValue,
	})
	raise(models.KindSpeedMismatch, p0.ID, models.SeverityInfo, p0.ID, p0.UserID,
		models.Details{"requested_speed": "same_day", "effective_speed": "standard", "expected": false, "amount": p0.Amount})
	raise(models.KindUnverifiedWithdrawer, "user-3", models.SeverityWarning, "", "user-3",
		models.Details{"verification_status": "pending", "blocked": false, "payout_status": "pending"})
	raise(models.KindWalletLowBalance, "wallet", models.SeverityWarning, "", "", models.Details{
		"balance_cents": balance, "floor_cents": balance + 1, "in_flight_cents": 0, "in_flight_unpriced_payouts": 0,
	})
	acked := raise(models.KindWebhookUnprocessable, "inbox:41", models.SeverityError, "", "",
		models.Details{"inbox_event_id": 41, "event_type": "Withdraw Success", "reason": "decode: missing signature field"})
	// A withdrawal payoutd did not make, under a transaction as long as a
	// value can be: the finding that once pushed Acknowledge off screen.
	fx.Long = raise(models.KindMissingLocally, LongValue, models.SeverityWarning, p3.ID, p3.UserID, models.Details{
		"transaction": LongValue, "amount": models.Money{Cents: LongCents, Currency: "USD"}, "status": "pending", "speed": "standard",
	})
	resolved := raise(models.KindMissingAtCoinflow, p2.ID, models.SeverityError, p2.ID, p2.UserID, models.Details{"idempotency_key": deref(p2.IdempotencyKey)})
	_, err := store.FindingAcknowledge(ctx, acked.ID, "ops", "known: replayed by hand")
	must(err)
	ok, err := store.FindingResolve(ctx, resolved.Kind, resolved.Subject)
	must(err)
	if !ok {
		t.Fatalf("seed: finding %s was not resolved", resolved.ID)
	}
	clock.Set(end)

	all, _, err := store.FindingList(ctx, models.FindingFilter{Page: models.Page{Limit: 500}})
	must(err)
	for i := range all {
		f := &all[i]
		fx.Findings = append(fx.Findings, f)
		switch f.ID {
		case acked.ID:
			fx.Acked = f
		case resolved.ID:
			fx.Resolved = f
		case fx.Open.ID:
			fx.Open = f
		case fx.Long.ID:
			fx.Long = f
		}
	}
	for _, p := range fx.Payouts {
		got, err := store.PayoutGet(ctx, p.ID)
		must(err)
		*p = *got
	}
	for _, u := range users {
		w, err := store.WithdrawerGet(ctx, u)
		must(err)
		fx.Withdrawers = append(fx.Withdrawers, w)
	}
	return fx
}

// apply records evidence for p through the one decision and the store's
// one write path.
func apply(t testing.TB, store *models.Store, p *models.Payout, ev models.PayoutEvidence) {
	t.Helper()
	w := decide.Withdrawal{Source: ev.Source, Status: ev.Status, Detail: ev.Detail, At: ev.At}
	if _, err := dbtest.Apply(t.Context(), store, p.ID, w); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
