// Package reporttest seeds a store with payouts, wallet snapshots and
// findings whose finance report is known, for the tests of package report,
// the API and the CLI, which must all give the same numbers.
package reporttest

import (
	"testing"
	"time"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// The seeded range: June 1 and 2, 2025. Payouts sit on both edges of it.
var (
	From = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	To   = time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
	// Now is where Seed leaves the clock: aging is measured to it.
	Now = time.Date(2025, 6, 4, 10, 0, 0, 0, time.UTC)
)

// NACHALimitCents is the same-day limit, restated so that expectations do
// not come from the code under test.
const NACHALimitCents = 100_000_000

// Sum is a count and an amount in cents.
type Sum struct{ Count, Cents int64 }

// WalletStep is the expected movement between two consecutive snapshots,
// in USD, and the number of unpriced payouts in it.
type WalletStep struct {
	Change, Payouts, Fees, Foreign, Refunded, Explained, Unexplained, Unpriced int64
}

// Fixture is what Seed wrote.
type Fixture struct {
	Payouts   []models.Payout // every payout, as stored at the end
	StuckOpen map[string]bool // payouts with an unresolved stuck_payout finding
	// Balances are the snapshots taken in the range, oldest first, and
	// Wallet the movement between each and the next.
	Balances []int64
	Wallet   []WalletStep
	// Findings counts unresolved findings by kind and severity.
	Findings map[[2]string]int64
}

type step struct {
	at     time.Time
	status models.PayoutStatus
	detail string
}

type payoutSpec struct {
	created              time.Time
	currency             string
	cents                int64
	requested, effective string
	transaction          string
	first                models.PayoutStatus
	steps                []step
	userFee, merchantFee int64
	returnStatus         string
	returnedAt           time.Time
	// walletDebit is what a foreign payout cost the USD wallet (0: not
	// priced yet), at rate.
	walletDebit int64
	rate        string
}

func at(day, hour, minute int) time.Time {
	return time.Date(2025, 6, day, hour, minute, 0, 0, time.UTC)
}

// lastMicro is the last instant of June 1 the database keeps.
var lastMicro = time.Date(2025, 6, 1, 23, 59, 59, 999_999_000, time.UTC)

// Seed writes the fixture through the store's own methods, moving clock
// (the store's NowFunc) to each event's time, and leaves the clock at Now.
func Seed(t testing.TB, store *models.Store, clock *dbtest.Clock) *Fixture {
	t.Helper()
	ctx := t.Context()
	fail := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	pending := models.StatusPending
	specs := map[string]payoutSpec{
		// Out of range, a microsecond before it starts.
		"p0": {created: time.Date(2025, 5, 31, 23, 59, 59, 999_999_000, time.UTC), currency: "USD", cents: 777,
			requested: "standard", effective: "standard", transaction: "tx-p0", first: pending},
		"p1": {created: at(1, 9, 0), currency: "USD", cents: 250_000, requested: "same_day", effective: "same_day",
			transaction: "tx-p1", first: pending, steps: []step{{at(1, 9, 30), models.StatusCompleted, ""}},
			userFee: 100, merchantFee: 250},
		// A NACHA downgrade: same_day above the limit in USD; stuck.
		"p2": {created: at(1, 10, 0), currency: "USD", cents: 150_000_000, requested: "same_day", effective: "standard",
			transaction: "tx-p2", first: pending, merchantFee: 5000},
		// Above the limit but in EUR: not the NACHA rule. 2,170,007.60 USD
		// from the wallet, fees included.
		"p9": {created: at(1, 12, 0), currency: "EUR", cents: 200_000_000, requested: "same_day", effective: "standard",
			transaction: "tx-p9", first: pending, steps: []step{{at(1, 12, 30), models.StatusCompleted, ""}}, merchantFee: 700,
			walletDebit: 217_000_760, rate: "1.085"},
		// The last microsecond of June 1.
		"p3": {created: lastMicro, currency: "USD", cents: 5000, requested: "asap", effective: "standard",
			transaction: "tx-p3", first: pending, steps: []step{{at(2, 1, 0), models.StatusCompleted, ""}}, userFee: 50},
		// Exactly the limit, on the first instant of June 2: not NACHA.
		"p4": {created: at(2, 0, 0), currency: "USD", cents: NACHALimitCents, requested: "same_day", effective: "standard",
			transaction: "tx-p4", first: pending, steps: []step{{at(2, 2, 0), models.StatusCompleted, ""}}},
		// Not priced in USD yet.
		"p5": {created: at(2, 8, 0), currency: "EUR", cents: 120_000, requested: "iban", effective: "iban",
			transaction: "tx-p5", first: pending, steps: []step{{at(2, 9, 0), models.StatusFailed, ""}},
			merchantFee: 300, returnStatus: models.ReturnStatusPending},
		// Completed, then returned by the bank; the return completed.
		"p6": {created: at(2, 12, 0), currency: "USD", cents: 70_000, requested: "standard", effective: "standard",
			transaction: "tx-p6", first: pending,
			steps:        []step{{at(2, 12, 30), models.StatusCompleted, ""}, {at(2, 17, 0), models.StatusFailed, ""}},
			returnStatus: models.ReturnStatusCompleted, returnedAt: at(2, 18, 0)},
		"p7": {created: at(2, 13, 0), currency: "USD", cents: 8000, requested: "paypal", effective: "paypal",
			transaction: "tx-p7", first: pending, steps: []step{{at(2, 13, 5), pending, models.DetailUnclaimed}}},
		// PIX: 901.50 USD from the wallet.
		"p14": {created: at(2, 10, 0), currency: "BRL", cents: 500_000, requested: "pix", effective: "pix",
			transaction: "tx-p14", first: pending, steps: []step{{at(2, 10, 30), models.StatusCompleted, ""}},
			walletDebit: 90_150, rate: "0.1803"},
		"p8": {created: at(2, 14, 0), currency: "USD", cents: 1234, requested: "standard", first: models.StatusRequested},
		// Refused before it reached Coinflow.
		"p13": {created: at(2, 15, 0), currency: "USD", cents: 3000, requested: "standard", first: models.StatusRequested,
			steps: []step{{at(2, 15, 1), models.StatusFailed, ""}}},
		// Out of range: the first instant after it; stuck.
		"p10": {created: at(3, 0, 0), currency: "USD", cents: 888, requested: "standard", transaction: "tx-p10", first: pending},
		"p11": {created: time.Date(2025, 5, 20, 10, 0, 0, 0, time.UTC), currency: "EUR", cents: 4321, requested: "paypal",
			effective: "paypal", transaction: "tx-p11", first: pending,
			steps: []step{{time.Date(2025, 5, 20, 10, 5, 0, 0, time.UTC), pending, models.DetailUnclaimed}}},
		"p12": {created: at(4, 9, 0), currency: "USD", cents: 600, requested: "asap", effective: "asap", transaction: "tx-p12",
			first: pending, steps: []step{{at(4, 9, 10), models.StatusInReview, ""}}},
	}
	ids := map[string]string{}
	for name, sp := range specs {
		clock.Set(sp.created)
		p := &models.Payout{UserID: "u-" + name, Amount: models.Money{Cents: sp.cents, Currency: sp.currency},
			Status: sp.first, Source: models.OriginAPI}
		fail("create "+name, store.PayoutCreate(ctx, p, models.SourceAPI, nil))
		ids[name] = p.ID
		fields := map[string]any{"requested_speed": sp.requested}
		if sp.effective != "" {
			fields["effective_speed"] = sp.effective
		}
		if sp.transaction != "" {
			fields["coinflow_transaction"] = sp.transaction
		}
		if sp.userFee != 0 {
			fields["user_fees_cents"], fields["user_fees_currency"] = sp.userFee, sp.currency
		}
		if sp.merchantFee != 0 {
			fields["merchant_fees_cents"], fields["merchant_fees_currency"] = sp.merchantFee, sp.currency
		}
		if sp.walletDebit != 0 {
			fields["wallet_debit_cents"], fields["exchange_rate"] = sp.walletDebit, sp.rate
		}
		fail("update "+name, store.DB().WithContext(ctx).Model(&models.Payout{}).Where("id = ?", p.ID).Updates(fields).Error)
		for _, st := range sp.steps {
			clock.Set(st.at)
			d, err := dbtest.Apply(ctx, store, p.ID, decide.Withdrawal{Source: models.SourceWebhook, Status: st.status, Detail: st.detail, At: st.at})
			fail("apply "+name, err)
			if !d.Healed {
				t.Fatalf("seed %s: %s did not apply", name, st.status)
			}
		}
		if sp.returnStatus != "" {
			ev := decide.Withdrawal{Source: models.SourceReconcile, ReturnStatus: sp.returnStatus}
			if !sp.returnedAt.IsZero() {
				clock.Set(sp.returnedAt)
				ev.ReturnedAt = &sp.returnedAt
			}
			_, err := dbtest.Apply(ctx, store, p.ID, ev)
			fail("return "+name, err)
		}
	}

	// Wallet, in USD: S0 and S5 lie outside the range. Between S1 and S2
	// the balance falls 100 cents more than p1, p2 and p9 (EUR, by its USD
	// debit) explain; between S3 and S4 it rises 5555 cents more than p6
	// (debited, then returned), p7 and p14 (BRL) explain, with p5 (EUR) not
	// priced.
	fx := &Fixture{
		Balances: []int64{1_000_000_000, 632_743_890, 532_738_890, 532_646_295},
		Wallet: []WalletStep{
			{Change: -367_256_110, Payouts: 150_250_000, Fees: 5250, Foreign: 217_000_760, Explained: -367_256_010, Unexplained: -100},
			{Change: -100_005_000, Payouts: 100_005_000, Explained: -100_005_000},
			{Change: -92_595, Payouts: 78_000, Foreign: 90_150, Refunded: 70_000, Explained: -98_150, Unexplained: 5555, Unpriced: 1},
		},
		StuckOpen: map[string]bool{ids["p2"]: true, ids["p10"]: true, ids["p12"]: true},
		Findings: map[[2]string]int64{
			{"stuck_payout", "warning"}: 3, {"speed_mismatch", "info"}: 1, {"speed_mismatch", "warning"}: 3,
			{"wallet_drift", "error"}: 1,
			// The seed's statuses go through the one decision: the payout
			// reported completed and then failed raises its terminal finding.
			{"status_mismatch", "error"}: 1,
		},
	}
	snaps := []struct {
		at    time.Time
		cents int64
	}{
		{time.Date(2025, 5, 31, 12, 0, 0, 0, time.UTC), 1_000_000_777},
		{at(1, 0, 30), fx.Balances[0]}, {at(1, 13, 0), fx.Balances[1]}, {at(2, 6, 0), fx.Balances[2]}, {at(2, 20, 0), fx.Balances[3]},
		{at(3, 1, 0), 532_645_407},
	}
	for i, s := range snaps {
		_, err := store.WalletSnapshotAdd(ctx, "run-"+string(rune('a'+i)), s.at, s.cents)
		fail("wallet snapshot", err)
	}

	raise := func(when time.Time, kind models.FindingKind, subject string, sev models.Severity, payout string) {
		clock.Set(when)
		f := models.Finding{Kind: kind, Subject: subject, Severity: sev}
		if payout != "" {
			f.PayoutID = &payout
		}
		_, _, err := store.FindingRaise(ctx, f)
		fail("finding "+string(kind), err)
	}
	raise(at(3, 2, 0), models.KindStuckPayout, ids["p2"], models.SeverityWarning, ids["p2"])
	raise(at(4, 9, 30), models.KindStuckPayout, ids["p10"], models.SeverityWarning, ids["p10"])
	raise(at(4, 9, 30), models.KindStuckPayout, ids["p12"], models.SeverityWarning, ids["p12"])
	raise(at(3, 2, 0), models.KindStuckPayout, ids["p6"], models.SeverityWarning, ids["p6"])
	raise(at(3, 2, 0), models.KindSpeedMismatch, ids["p2"], models.SeverityInfo, ids["p2"])
	for _, name := range []string{"p3", "p4", "p9"} {
		raise(at(3, 2, 0), models.KindSpeedMismatch, ids[name], models.SeverityWarning, ids[name])
	}
	raise(at(2, 20, 0), models.KindWalletDrift, "wallet", models.SeverityError, "")
	raise(at(3, 2, 0), models.KindStatusMismatch, ids["p1"], models.SeverityError, ids["p1"])
	clock.Set(at(3, 3, 0))
	// Resolved findings leave the report: p6's stuck finding with them.
	for _, k := range []struct {
		kind models.FindingKind
		name string
	}{{models.KindStuckPayout, "p6"}, {models.KindStatusMismatch, "p1"}} {
		ok, err := store.FindingResolve(ctx, k.kind, ids[k.name])
		fail("resolve finding", err)
		if !ok {
			t.Fatalf("seed: no %s finding to resolve for %s", k.kind, k.name)
		}
	}
	// An acknowledged finding is still unresolved, so it stays.
	drift, _, err := store.FindingRaise(ctx, models.Finding{Kind: models.KindWalletDrift, Subject: "wallet", Severity: models.SeverityError})
	fail("load drift finding", err)
	_, err = store.FindingAcknowledge(ctx, drift.ID, "finance", "looking into it")
	fail("acknowledge finding", err)

	for _, id := range ids {
		p, err := store.PayoutGet(ctx, id)
		fail("reload payout", err)
		fx.Payouts = append(fx.Payouts, *p)
	}
	clock.Set(Now)
	return fx
}

func inRange(p *models.Payout) bool {
	return !p.CreatedAt.Before(From) && p.CreatedAt.Before(To)
}

func add(m map[string]Sum, currency string, cents int64) {
	s := m[currency]
	s.Count++
	s.Cents += cents
	m[currency] = s
}

// WantPayouts is the count and amount per currency of the payouts created
// in the range.
func (fx *Fixture) WantPayouts() map[string]Sum {
	out := map[string]Sum{}
	for _, p := range fx.Payouts {
		if inRange(&p) {
			add(out, p.Amount.Currency, p.Amount.Cents)
		}
	}
	return out
}

// WantFees is the fees per currency that payer ("user" or "merchant") paid
// on the payouts created in the range that did not fail.
func (fx *Fixture) WantFees(payer string) map[string]Sum {
	out := map[string]Sum{}
	for _, p := range fx.Payouts {
		fee := p.UserFees
		if payer == "merchant" {
			fee = p.MerchantFees
		}
		if inRange(&p) && p.Status != models.StatusFailed && fee.Cents != 0 {
			add(out, fee.Currency, fee.Cents)
		}
	}
	return out
}

// WantSpeeds is the payouts per currency of a speed class (as_requested,
// nacha_downgrade, other_downgrade) created in the range.
func (fx *Fixture) WantSpeeds(class string) map[string]Sum {
	out := map[string]Sum{}
	for _, p := range fx.Payouts {
		if !inRange(&p) || p.RequestedSpeed == nil || p.EffectiveSpeed == nil {
			continue
		}
		req, eff := *p.RequestedSpeed, *p.EffectiveSpeed
		c := "other_downgrade"
		switch {
		case req == eff:
			c = "as_requested"
		case req == "same_day" && eff == "standard" && p.Amount.Currency == "USD" && p.Amount.Cents > NACHALimitCents:
			c = "nacha_downgrade"
		}
		if c == class {
			add(out, p.Amount.Currency, p.Amount.Cents)
		}
	}
	return out
}

// WantFailed is the failed payouts per currency created in the range.
func (fx *Fixture) WantFailed() map[string]Sum {
	out := map[string]Sum{}
	for _, p := range fx.Payouts {
		if inRange(&p) && p.Status == models.StatusFailed {
			add(out, p.Amount.Currency, p.Amount.Cents)
		}
	}
	return out
}

// WantReturns is the payouts being or having been returned, per currency,
// created in the range.
func (fx *Fixture) WantReturns() map[string]Sum {
	out := map[string]Sum{}
	for _, p := range fx.Payouts {
		if inRange(&p) && p.ReturnStatus != nil && (*p.ReturnStatus == "pending_return" || *p.ReturnStatus == "return_completed") {
			add(out, p.Amount.Currency, p.Amount.Cents)
		}
	}
	return out
}

// WantAging is the waiting payouts of kind ("stuck" or "unclaimed") by age
// bucket and currency as of now, whenever created.
func (fx *Fixture) WantAging(kind string, now time.Time) map[[2]string]Sum {
	out := map[[2]string]Sum{}
	for _, p := range fx.Payouts {
		waiting := fx.StuckOpen[p.ID]
		if kind == "unclaimed" {
			waiting = p.StatusDetail != nil && *p.StatusDetail == models.DetailUnclaimed
		}
		if !waiting {
			continue
		}
		age := now.Sub(p.CreatedAt)
		bucket := ">7d"
		switch {
		case age < 24*time.Hour:
			bucket = "<1d"
		case age < 72*time.Hour:
			bucket = "1-3d"
		case age < 7*24*time.Hour:
			bucket = "3-7d"
		}
		k := [2]string{bucket, p.Amount.Currency}
		s := out[k]
		s.Count++
		s.Cents += p.Amount.Cents
		out[k] = s
	}
	return out
}

// Debits is a number of payouts and what they cost the USD wallet, in USD
// cents.
type Debits struct{ Count, Unpriced, Debited, Refunded int64 }

// WantWalletDebits is, per payout currency, what the payouts created in the
// range that reached Coinflow cost the USD wallet: a USD payout its amount
// and merchant fees, a foreign one its wallet debit, or counted unpriced;
// Refunded for those that failed with their return completed.
func (fx *Fixture) WantWalletDebits() map[string]Debits {
	out := map[string]Debits{}
	for _, p := range fx.Payouts {
		if !inRange(&p) || p.CoinflowTransaction == nil {
			continue
		}
		d := out[p.Amount.Currency]
		d.Count++
		cost := p.Amount.Cents + p.MerchantFees.Cents
		if p.Amount.Currency != "USD" {
			cost = 0
			if p.WalletDebitCents == nil {
				d.Unpriced++
			} else {
				cost = *p.WalletDebitCents
			}
		}
		d.Debited += cost
		if p.Status == models.StatusFailed && p.ReturnStatus != nil && *p.ReturnStatus == "return_completed" {
			d.Refunded += cost
		}
		out[p.Amount.Currency] = d
	}
	return out
}

func (d Debits) plus(o Debits) Debits {
	return Debits{d.Count + o.Count, d.Unpriced + o.Unpriced, d.Debited + o.Debited, d.Refunded + o.Refunded}
}

// AllDebits sums debits over every currency: they are all USD.
func AllDebits(m map[string]Debits) Debits {
	var all Debits
	for _, d := range m {
		all = all.plus(d)
	}
	return all
}
