package reconcile_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

// hookTransport lets a test act at Coinflow between the reconciler's
// requests, and rewrite what comes back.
type hookTransport struct {
	mu     sync.Mutex
	before func(r *http.Request) error
	after  func(r *http.Request, body []byte) []byte
	errs   []error
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	before, after := h.before, h.after
	h.mu.Unlock()
	if before != nil {
		if err := before(r); err != nil {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || after == nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = after(r, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// client is a Coinflow client configuration whose requests go through h.
func (h *hookTransport) client() coinflow.Config {
	return coinflow.Config{HTTPClient: &http.Client{Transport: h}}
}

// set installs the hooks (nil removes them) and returns the errors the
// previous ones reported.
func (h *hookTransport) set(before func(*http.Request) error, after func(*http.Request, []byte) []byte) []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	errs := h.errs
	h.before, h.after, h.errs = before, after, nil
	return errs
}

func isListPage(r *http.Request, page string) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/merchant/withdraws") && r.URL.Query().Get("page") == page
}

func isBalance(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/merchant/withdraws/payout/balance")
}

// once returns a hook that runs fn on the first request matching match.
func once(match func(*http.Request) bool, fn func() error) func(*http.Request) error {
	var done bool
	var mu sync.Mutex
	return func(r *http.Request) error {
		mu.Lock()
		defer mu.Unlock()
		if done || !match(r) {
			return nil
		}
		done = true
		return fn()
	}
}

// pagedOptions lists withdraws two a page, compared four pages at a time.
func pagedOptions(client coinflow.Config) options {
	return options{cfg: reconcile.Config{PageSize: 2, PageWorkers: 4}, client: client}
}

// payFive makes five payouts through payoutd, all created at one instant
// and so listed in creation order: pages [p0 p1] [p2 p3] [p4].
func payFive(t *testing.T, b *bundle) []*models.Payout {
	t.Helper()
	var ps []*models.Payout
	for i := range 5 {
		ps = append(ps, b.pay(t, userOK, int64(1_000*(i+1)), "standard", fmt.Sprintf("paged-%d", i)))
	}
	return ps
}

// payFiveAndReconcile clears hook, makes payFive's payouts and reconciles
// them once, past the missing grace.
func payFiveAndReconcile(t *testing.T, b *bundle, hook *hookTransport) []*models.Payout {
	t.Helper()
	hook.set(nil, nil)
	ps := payFive(t, b)
	b.tick(31 * time.Minute)
	b.runOK(t)
	return ps
}

// createOlderWithdraw gives Coinflow a withdraw created before every one
// the tests make (no webhooks, no debit): it sorts first, so a stream
// under way sees every later page shift by one.
func createOlderWithdraw(b *bundle) (coinflowtest.Withdraw, error) {
	return b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
		UserID: userOK, AmountCents: 300, Speed: "standard", CreatedAt: start.Add(-time.Hour), NoWebhooks: true, NoDebit: true,
	})
}

// runWhenPage2IsListed reconciles with fn run once, as Coinflow is asked
// for page 2 of the withdraws, requires the run ok, and returns its counts.
func runWhenPage2IsListed(t *testing.T, b *bundle, hook *hookTransport, fn func() error) map[string]int64 {
	t.Helper()
	hook.set(once(func(r *http.Request) bool { return isListPage(r, "2") }, fn), nil)
	run := b.run(t)
	require.Empty(t, hook.set(nil, nil))
	requireOK(t, run)
	return counts(t, run)
}

func TestPartialRunProvesNothingAndResolvesNothing(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]coinflowtest.APIFault{
		"503":       {Status: http.StatusServiceUnavailable},
		"429":       {Status: http.StatusTooManyRequests},
		"hang":      {Hang: 5 * time.Second},
		"truncated": {TruncateBody: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := coinflow.Config{Timeout: time.Second, MaxAttempts: 2}
			each(t, pagedOptions(client), func(t *testing.T, b *bundle) {
				ps := payFive(t, b) // pages [p0 p1] [p2 p3] [p4]
				ghost1 := b.createPayout(t, models.Payout{Amount: usd(500), Status: models.StatusPending, CoinflowTransaction: ptr("ghost-1")})
				for _, p := range []*models.Payout{ps[0], ps[4]} {
					require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = amount_cents + 1 WHERE id = ?", p.ID).Error)
				}
				b.tick(time.Minute)
				b.apply(t, ps[3].ID, models.StatusCompleted, b.clock.Now())
				b.tick(31 * time.Minute)
				b.runOK(t)
				want := []key{
					{models.KindAmountMismatch, ps[0].ID, models.SeverityError},
					{models.KindAmountMismatch, ps[4].ID, models.SeverityError},
					{models.KindStatusMismatch, ps[3].ID, models.SeverityWarning},
					{models.KindMissingAtCoinflow, ghost1.ID, models.SeverityError},
				}
				b.requireOpen(t, want...)

				// Every one of those conditions goes away, and new ones
				// arise that only a complete run could prove.
				for _, p := range []*models.Payout{ps[0], ps[4]} {
					require.NoError(t, b.store.DB().Exec("UPDATE payouts SET amount_cents = amount_cents - 1 WHERE id = ?", p.ID).Error)
				}
				require.NoError(t, b.emu.Complete(txn(t, ps[3])))
				_, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
					UserID: userOK, AmountCents: 500, Speed: "standard", Transaction: "ghost-1", CreatedAt: start, NoWebhooks: true, NoDebit: true,
				})
				require.NoError(t, err)
				b.settle(t)
				b.createPayout(t, models.Payout{Amount: usd(600), Status: models.StatusPending, CoinflowTransaction: ptr("ghost-2")})
				b.emu.SetBalance(b.emu.Balance() - 999)
				b.tick(31 * time.Minute)

				fault.Operation, fault.After = coinflowtest.OpListWithdraws, 1 // page 1 answers, page 2 never does
				b.emu.SetAPIFaults(fault)
				lists, gets := b.emu.Calls(coinflowtest.OpListWithdraws), b.emu.Calls(coinflowtest.OpGetWithdraw)
				run := b.run(t)
				require.Equal(t, models.RunPartial, run.Outcome)
				require.Len(t, run.Problems, 1, "problems: %v", run.Problems)
				require.Contains(t, run.Problems["payouts"], "list withdraws")
				require.Equal(t, int64(2), counts(t, run)["withdraws_seen"], "page 1 only")
				require.Equal(t, lists+1+2, b.emu.Calls(coinflowtest.OpListWithdraws), "page 1, then page 2 twice (MaxAttempts)")
				require.Equal(t, gets, b.emu.Calls(coinflowtest.OpGetWithdraw), "nothing confirmed: the stream was incomplete")
				// Nothing resolved (not even ps[0], which page 1 showed fixed),
				// no missing_at_coinflow for ghost-2, no wallet_drift for the 9.99.
				b.requireOpen(t, want...)
				require.Len(t, b.snapshots(t), 1, "a partial run keeps no snapshot: drift is judged only between complete runs")

				b.emu.ClearAPIFaults()
			})
		})
	}
}

func TestChecksThatCannotSeeCoinflowResolveNothing(t *testing.T) {
	t.Parallel()
	opts := options{
		balanceCents: 100_000, cfg: reconcile.Config{LowBalanceCents: 200_000},
		client:      coinflow.Config{MaxAttempts: 2},
		withdrawers: []coinflowtest.WithdrawerSpec{{UserID: "u-block", BankToken: bankToken, Blocked: true}},
	}
	each(t, opts, func(t *testing.T, b *bundle) {
		p := b.createPayout(t, models.Payout{UserID: "u-block", Amount: usd(1_000), Status: models.StatusRequested})
		b.runOK(t)
		want := []key{
			{models.KindUnverifiedWithdrawer, p.ID, models.SeverityError},
			{models.KindWalletLowBalance, "wallet", models.SeverityWarning},
		}
		b.requireOpen(t, want...)

		require.NoError(t, b.emu.SetBlocked("u-block", false))
		b.emu.SetBalance(300_000)
		b.emu.SetAPIFaults(
			coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, Status: http.StatusBadGateway},
			coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: http.StatusServiceUnavailable},
		)
		b.tick(time.Minute)
		run := b.run(t)
		require.Equal(t, models.RunPartial, run.Outcome)
		require.Contains(t, run.Problems["withdrawers"], "list withdrawers")
		require.Contains(t, run.Problems["wallet"], "read balance")
		require.NotContains(t, run.Problems, "payouts")
		b.requireOpen(t, want...)
		require.Len(t, b.snapshots(t), 1, "no balance, no snapshot")
		w, err := b.store.WithdrawerGet(t.Context(), "u-block")
		require.NoError(t, err)
		require.True(t, w.Blocked, "not synced")
	})
}

func TestPagesShiftingUnderTheStreamRaiseNothingFalse(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, pagedOptions(hook.client()), func(t *testing.T, b *bundle) {
		ps := payFiveAndReconcile(t, b, hook)
		b.requireOpen(t)

		// As page 2 is requested, Coinflow gains an old withdraw
		// (sorted first: every later page shifts by one) and a new one
		// (sorted last, and paid out of the wallet now).
		b.tick(time.Minute)
		var older, newer coinflowtest.Withdraw
		c := runWhenPage2IsListed(t, b, hook, func() error {
			var err error
			older, err = createOlderWithdraw(b)
			if err != nil {
				return err
			}
			// Made after this run read the balance (which it reads first).
			newer, err = b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{
				UserID: userOK, AmountCents: 400, Speed: "standard", NoWebhooks: true, CreatedAt: b.emu.Now().Add(time.Second),
			})
			return err
		})
		require.Equal(t, int64(2+2+2+1), c["withdraws_seen"], "p1 seen twice, the older one not at all")
		require.Equal(t, int64(1), c["payouts_discovered"])
		require.NotContains(t, c, "missing_at_coinflow")
		require.Equal(t, 0, b.emu.Calls(coinflowtest.OpGetWithdraw), "every local payout was in the stream")
		// The new withdraw's debit is explained by its discovery: no drift.
		b.requireOpen(t, key{models.KindMissingLocally, newer.Transaction, models.SeverityWarning})

		ps2, _, err := b.store.PayoutList(t.Context(), models.PayoutFilter{Transaction: older.Transaction})
		require.NoError(t, err)
		require.Empty(t, ps2, "the older withdraw is left to the next run")
		for _, p := range ps {
			require.Equal(t, models.StatusPending, b.payout(t, p.ID).Status)
		}
	})
}

// TestPayoutOnTwoPagesIsHealedOnce: pages are compared concurrently, and a
// shift under the stream puts one payout on two of them, both times with a
// status to heal. Whichever page comes second finds it already healed
// (retrying if it met the first page's write underneath): one applied
// history row, and every payout healed once.
func TestPayoutOnTwoPagesIsHealedOnce(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, pagedOptions(hook.client()), func(t *testing.T, b *bundle) {
		ps := payFiveAndReconcile(t, b, hook)

		// Coinflow completes all five; payoutd hears of none of it.
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: len(ps)})
		b.tick(time.Minute)
		for _, p := range ps {
			require.NoError(t, b.emu.Complete(txn(t, p)))
		}
		b.settle(t)
		for _, p := range ps {
			require.Equal(t, models.StatusPending, b.payout(t, p.ID).Status, "the completion webhooks were lost")
		}

		// An older withdraw appears before page 2 is listed: p1 is the
		// last of page 1 and the first of page 2.
		c := runWhenPage2IsListed(t, b, hook, func() error {
			_, err := createOlderWithdraw(b)
			return err
		})
		require.Equal(t, int64(2+2+2), c["withdraws_seen"], "pages [p0 p1] [p1 p2] [p3 p4]: p1 seen twice, the older one not at all")
		require.Equal(t, int64(len(ps)), c["payouts_healed"], "each payout healed once")
		for _, p := range ps {
			require.Equal(t, models.StatusCompleted, b.payout(t, p.ID).Status)
			hs, err := b.store.PayoutHistoryList(t.Context(), p.ID)
			require.NoError(t, err)
			var healed int
			for _, h := range hs {
				if h.Applied && h.Source == models.SourceReconcile && h.ToStatus == string(models.StatusCompleted) {
					healed++
				}
			}
			require.Equal(t, 1, healed, "applied completions of %s from reconciliation", p.ID)
		}
		b.requireOpen(t)
	})
}

// TestPagesSharingAWithdrawAreComparedInStreamOrder: Coinflow completes p1
// between the listing of page 1 (p1 pending) and page 2 (p1 completed,
// shifted there), and page 1's comparison is slow to start. Page 2 must
// wait for it rather than heal p1 first: otherwise page 1 would then read
// p1 completed and take its own older evidence for payoutd being ahead of
// Coinflow (a false status_mismatch and a stale history row).
func TestPagesSharingAWithdrawAreComparedInStreamOrder(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, pagedOptions(hook.client()), func(t *testing.T, b *bundle) {
		ps := payFiveAndReconcile(t, b, hook)
		p1 := ps[1]
		b.tick(time.Minute)
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		var held atomic.Bool
		reconcile.SetBeforePage(b.rec, func(seq uint32) {
			if seq == 1 && !held.Swap(true) {
				time.Sleep(500 * time.Millisecond) // ample for page 2, were it not held back
			}
		})
		defer reconcile.SetBeforePage(b.rec, nil)
		c := runWhenPage2IsListed(t, b, hook, func() error {
			if _, err := createOlderWithdraw(b); err != nil {
				return err
			}
			return b.emu.Complete(txn(t, p1))
		})
		require.Equal(t, int64(2+2+2), c["withdraws_seen"], "pages [p0 p1] [p1 p2] [p3 p4]")
		require.Equal(t, int64(1), c["payouts_healed"])
		require.NotContains(t, c, "findings_raised")
		b.requireOpen(t)
		require.Equal(t, models.StatusCompleted, b.payout(t, p1.ID).Status)
		hs, err := b.store.PayoutHistoryList(t.Context(), p1.ID)
		require.NoError(t, err)
		for _, h := range hs {
			if h.Source == models.SourceReconcile && h.Reason == decide.ReasonFieldsChanged {
				// The first run recorded the fields Coinflow's record added.
				require.NotEmpty(t, h.Changes)
				require.Equal(t, h.FromStatus, &h.ToStatus, "a fields row moves no status")
				continue
			}
			if h.Source == models.SourceReconcile {
				require.True(t, h.Applied && h.ToStatus == string(models.StatusCompleted),
					"reconciliation's only status row for p1 is its completion, got %+v", h)
			}
		}
	})
}

// dropFirst removes the first withdraw of a page's JSON array: the page
// slid back under the stream, and one withdraw was never shown.
func dropFirst(t *testing.T) func(*http.Request, []byte) []byte {
	return func(r *http.Request, body []byte) []byte {
		if !isListPage(r, "2") {
			return body
		}
		var page []json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil || len(page) == 0 {
			t.Errorf("page 2: %v (%d withdraws)", err, len(page))
			return body
		}
		out, err := json.Marshal(page[1:])
		if err != nil {
			t.Errorf("page 2: %v", err)
		}
		return out
	}
}

// runWithPage2Short reconciles with page 2 of the withdraws short of its
// first withdraw (dropFirst), requires the run ok, and returns it.
func runWithPage2Short(t *testing.T, b *bundle, hook *hookTransport) *models.ReconcileRun {
	t.Helper()
	hook.set(nil, dropFirst(t))
	run := b.run(t)
	hook.set(nil, nil)
	requireOK(t, run)
	return run
}

func TestPayoutSkippedByTheStreamIsConfirmedNotMissing(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, pagedOptions(hook.client()), func(t *testing.T, b *bundle) {
		hook.set(nil, nil)
		ps := payFive(t, b) // p2 opens page 2
		b.emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
		require.NoError(t, b.emu.Complete(txn(t, ps[2])))
		b.settle(t)
		b.tick(31 * time.Minute)

		run := runWithPage2Short(t, b, hook)
		// Page 2 came back short ([p3]), which ends the stream: p2 and p4
		// are absent from it, and each is confirmed with a single get.
		require.Equal(t, int64(3), counts(t, run)["withdraws_seen"])
		require.Equal(t, 2, b.emu.Calls(coinflowtest.OpGetWithdraw))
		require.Equal(t, models.StatusCompleted, b.payout(t, ps[2].ID).Status, "and compared: healed")
		b.requireOpen(t)
	})
}

// Coinflow's single get has no in_review (the emulator shows such a
// withdraw as pending, as the spec's IWithdraw does): confirming a payout
// in review must not call payoutd ahead of Coinflow.
func TestConfirmingAPayoutInReviewRaisesNothing(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, pagedOptions(hook.client()), func(t *testing.T, b *bundle) {
		hook.set(nil, nil)
		ps := payFive(t, b)
		require.NoError(t, b.emu.SetInReview(txn(t, ps[2])))
		b.tick(time.Minute)
		b.runOK(t)
		require.Equal(t, models.StatusInReview, b.payout(t, ps[2].ID).Status, "the list shows in_review")
		b.requireOpen(t)

		b.tick(31 * time.Minute)
		runWithPage2Short(t, b, hook)
		require.Equal(t, 2, b.emu.Calls(coinflowtest.OpGetWithdraw))
		require.Equal(t, models.StatusInReview, b.payout(t, ps[2].ID).Status)
		b.requireOpen(t)
	})
}

// A withdraw made at Coinflow while a run reads the balance: the balance
// is read before the withdraws are listed, so the withdraw is both in the
// balance and in this run's list, and explained in the same interval.
// Neither interval shows drift.
func TestWithdrawBetweenListAndBalanceMakesNoFalseDrift(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, options{client: hook.client()}, func(t *testing.T, b *bundle) {
		hook.set(nil, nil)
		b.pay(t, userOK, 1_000, "standard", "before")
		b.runOK(t)

		b.tick(time.Minute)
		var late coinflowtest.Withdraw
		hook.set(once(isBalance, func() error {
			var err error
			late, err = b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: userOK, AmountCents: 7_000, Speed: "standard", NoWebhooks: true})
			return err
		}), nil)
		b.runOK(t)
		require.Empty(t, hook.set(nil, nil))
		require.Len(t, b.snapshots(t), 2)
		b.requireOpen(t, key{models.KindMissingLocally, late.Transaction, models.SeverityWarning})

		b.tick(time.Minute)
		b.runOK(t)
		b.requireOpen(t, key{models.KindMissingLocally, late.Transaction, models.SeverityWarning})
	})
}

// runPartialThenWhole reconciles once while Coinflow fails to list the
// withdraws, requiring the run partial and nothing raised by it, then a
// minute later with the list back, requiring that run ok.
func runPartialThenWhole(t *testing.T, b *bundle) {
	t.Helper()
	b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: http.StatusServiceUnavailable})
	b.tick(time.Minute)
	require.Equal(t, models.RunPartial, b.run(t).Outcome)
	b.requireOpen(t)

	b.emu.ClearAPIFaults()
	b.tick(time.Minute)
	b.runOK(t)
}

// An unexplained movement of the balance while runs end partial must still
// be reported once a run sees everything again.
func TestDriftDuringAPartialRunIsReportedAfterRecovery(t *testing.T) {
	t.Parallel()
	each(t, options{client: coinflow.Config{MaxAttempts: 1}}, func(t *testing.T, b *bundle) {
		b.pay(t, userOK, 1_000, "standard", "drift-partial")
		b.runOK(t)

		b.tick(time.Minute)
		b.emu.SetBalance(b.emu.Balance() - 999)
		runPartialThenWhole(t, b)
		var open []models.Finding
		require.NoError(t, b.store.DB().Where("resolved_at IS NULL").Find(&open).Error)
		require.Len(t, open, 1, "one wallet_drift finding: %+v", open)
		require.Equal(t, models.KindWalletDrift, open[0].Kind)
		require.Equal(t, float64(-999), open[0].Details["unexplained_cents"])
	})
}

// A payout made elsewhere while a run ends partial is discovered by the
// next complete run: its debit is explained, whichever run saw the
// balance fall.
func TestNoFalseDriftAfterAPartialRun(t *testing.T) {
	t.Parallel()
	each(t, options{client: coinflow.Config{MaxAttempts: 1}}, func(t *testing.T, b *bundle) {
		b.pay(t, userOK, 1_000, "standard", "before")
		b.runOK(t)

		b.tick(time.Minute)
		w, err := b.emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: userOK, AmountCents: 7_000, Speed: "standard", NoWebhooks: true})
		require.NoError(t, err)
		runPartialThenWhole(t, b)
		b.requireOpen(t, key{models.KindMissingLocally, w.Transaction, models.SeverityWarning})
	})
}

func gaugeValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	require.NoError(t, m.Write(&d))
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}

func logCount(b *bundle, level logrus.Level, prefix string) int {
	n := 0
	for _, e := range b.logs.AllEntries() {
		if e.Level == level && strings.HasPrefix(e.Message, prefix) {
			n++
		}
	}
	return n
}

func TestPersistentFailureFlipsDegradedOnceAndRecovers(t *testing.T) {
	t.Parallel()
	each(t, options{client: coinflow.Config{MaxAttempts: 2}}, func(t *testing.T, b *bundle) {
		b.pay(t, userOK, 1_000, "standard", "degraded")
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: http.StatusServiceUnavailable})
		streak := func(runs, degradedFrom, logged int) {
			t.Helper()
			for i := 1; i <= runs; i++ {
				b.tick(time.Minute)
				run := b.run(t)
				require.Equal(t, models.RunPartial, run.Outcome)
				want := 0.0
				if i >= degradedFrom {
					want = 1
				}
				require.Equal(t, want, gaugeValue(t, b.metrics.Degraded), "run %d", i)
				wantLogs := logged
				if i >= degradedFrom {
					wantLogs++
				}
				require.Equal(t, wantLogs, logCount(b, logrus.ErrorLevel, "reconciler degraded"), "run %d", i)
			}
		}
		streak(5, 3, 0) // DegradedAfter defaults to 3
		require.Equal(t, 5.0, gaugeValue(t, b.metrics.Runs.WithLabelValues(models.RunPartial)))
		require.Zero(t, gaugeValue(t, b.metrics.LastSuccess))
		require.Equal(t, 5, logCount(b, logrus.WarnLevel, "reconciliation run incomplete"))

		b.emu.ClearAPIFaults()
		b.tick(time.Minute)
		b.runOK(t)
		require.Zero(t, gaugeValue(t, b.metrics.Degraded))
		require.Equal(t, 1, logCount(b, logrus.InfoLevel, "reconciler recovered"))
		require.Equal(t, 1, logCount(b, logrus.ErrorLevel, "reconciler degraded"))
		require.Positive(t, gaugeValue(t, b.metrics.LastSuccess))
		require.Equal(t, 1.0, gaugeValue(t, b.metrics.Runs.WithLabelValues(models.RunOK)))

		// A new streak starts from zero.
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: http.StatusServiceUnavailable})
		streak(3, 3, 1)
		require.Equal(t, 1, logCount(b, logrus.InfoLevel, "reconciler recovered"))
	})
}

func TestOneRunAtATime(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	each(t, options{client: hook.client()}, func(t *testing.T, b *bundle) {
		listing, release := make(chan struct{}), make(chan struct{})
		hook.set(once(func(r *http.Request) bool { return isListPage(r, "1") }, func() error {
			close(listing)
			<-release
			return nil
		}), nil)
		done := make(chan *models.ReconcileRun)
		go func() {
			run, err := b.rec.RunOnce(t.Context(), "schedule")
			if err != nil {
				t.Errorf("first run: %v", err)
			}
			done <- run
		}()
		<-listing
		_, err := b.rec.RunOnce(t.Context(), "api")
		require.ErrorIs(t, err, reconcile.ErrBusy)
		_, err = b.rec.Start(t.Context(), "api")
		require.ErrorIs(t, err, reconcile.ErrBusy)
		close(release)
		run := <-done
		require.NotNil(t, run)
		require.Equal(t, models.RunOK, run.Outcome)
		require.Empty(t, hook.set(nil, nil))
		var n int64
		require.NoError(t, b.store.DB().Model(&models.ReconcileRun{}).Count(&n).Error)
		require.EqualValues(t, 1, n, "the refused runs were not recorded")
	})
}
