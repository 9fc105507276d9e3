package reconcile_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

const (
	apiKey    = "reconcile-api-key"
	bankToken = "bnk_rec0nc1leT0kenAAAAAAAA"
	userOK    = "u-ok"
	// startBalance is 10,000,000.00 USD: room for a payout over the NACHA
	// same-day limit.
	startBalance = 1_000_000_000
)

// start is a Monday afternoon, a business day in New York, on both the
// store's clock and the emulator's.
var start = time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)

// options tune setup; zero values take the defaults.
type options struct {
	cfg          reconcile.Config
	balanceCents int64
	// client overrides the Coinflow client's Timeout, MaxAttempts and
	// HTTPClient when set.
	client coinflow.Config
	// withdrawers are registered at the emulator besides u-ok.
	withdrawers []coinflowtest.WithdrawerSpec
}

// bundle is payoutd (in-process router, webhook pipeline and store), the
// emulator with its webhooks flowing back into payoutd, and a reconciler,
// all on one clock.
type bundle struct {
	store   *models.Store
	clock   *dbtest.Clock
	emu     *coinflowtest.Server
	srv     *testserver.Server
	cf      *coinflow.Client
	rec     *reconcile.Reconciler
	logs    *logtest.Hook
	metrics *metrics.Reconcile
	cfg     reconcile.Config
}

// each runs fn on SQLite and on PostgreSQL, each with a fresh bundle whose
// store, payoutd and emulator clocks all stand at start.
func each(t *testing.T, opts options, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fn(t, setup(t, store, clock, opts))
	})
}

func setup(t *testing.T, store *models.Store, clock *dbtest.Clock, opts options) *bundle {
	t.Helper()
	balance := opts.balanceCents
	if balance == 0 {
		balance = startBalance
	}
	emu := coinflowtest.NewServer(coinflowtest.Options{
		APIKey: apiKey, WebhookKey: testserver.WebhookKey, InitialBalanceCents: balance,
		Start: clock.Now(), SignNowFunc: clock.Now,
		WebhookRetry: coinflowtest.RetryPolicy{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, GiveUpAfter: 20 * time.Second},
	})
	t.Cleanup(emu.Close)
	for _, w := range append([]coinflowtest.WithdrawerSpec{{UserID: userOK, BankToken: bankToken}}, opts.withdrawers...) {
		_, err := emu.AddWithdrawer(w)
		require.NoError(t, err)
	}
	ccfg := coinflow.Config{
		BaseURL: emu.URL, APIKey: apiKey, Timeout: 2 * time.Second, MaxAttempts: 3,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}
	if opts.client.Timeout != 0 {
		ccfg.Timeout = opts.client.Timeout
	}
	if opts.client.MaxAttempts != 0 {
		ccfg.MaxAttempts = opts.client.MaxAttempts
	}
	ccfg.HTTPClient = opts.client.HTTPClient
	cf, err := coinflow.New(ccfg)
	require.NoError(t, err)
	srv := testserver.Start(t, store, testserver.Options{Coinflow: cf, Clock: clock})
	emu.SetWebhookURL(srv.URL + "/webhooks/coinflow")

	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	m := srv.Metrics.NewReconcile()
	rec, err := reconcile.New(store, cf, logger.WithField("component", "reconcile"), m, opts.cfg)
	require.NoError(t, err)
	return &bundle{store: store, clock: clock, emu: emu, srv: srv, cf: cf, rec: rec, logs: hook, metrics: m, cfg: opts.cfg}
}

// tick moves payoutd's clock and the emulator's forward together (the
// emulator completes what falls due and queues its webhooks).
func (b *bundle) tick(d time.Duration) {
	b.clock.Advance(d)
	b.emu.Advance(d)
}

// settle delivers the emulator's webhooks and applies them.
func (b *bundle) settle(t *testing.T) {
	t.Helper()
	require.NoError(t, b.emu.WaitWebhooks(t.Context()))
	b.srv.Drain(t)
}

// pay initiates a payout through POST /api/v1/payouts, requires Coinflow to
// accept it, lets its Withdraw Pending in, and returns it as stored.
func (b *bundle) pay(t *testing.T, user string, cents int64, speed, key string) *models.Payout {
	t.Helper()
	req := map[string]any{
		"user_id": user, "amount": map[string]any{"cents": cents, "currency": "USD"},
		"speed": speed, "account": bankToken, "idempotency_key": key,
	}
	var got struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	status := b.srv.API(t, http.MethodPost, "/api/v1/payouts", req, &got)
	require.Equal(t, http.StatusCreated, status, "pay %s %d %s: %+v", user, cents, speed, got.Error)
	require.Equal(t, "pending", got.Status)
	b.settle(t)
	return b.payout(t, got.ID)
}

// payCompleted pays 250.00 USD asap to u-ok, lets Coinflow complete it
// and its Withdraw Success in, and returns it as stored, completed.
func (b *bundle) payCompleted(t *testing.T, key string) *models.Payout {
	t.Helper()
	p := b.pay(t, userOK, 25_000, "asap", key)
	b.tick(5 * time.Minute)
	b.settle(t)
	p = b.payout(t, p.ID)
	require.Equal(t, models.StatusCompleted, p.Status)
	return p
}

// run runs the reconciler once and returns the run as stored.
func (b *bundle) run(t *testing.T) *models.ReconcileRun {
	t.Helper()
	run, err := b.rec.RunOnce(t.Context(), "test")
	require.NoError(t, err)
	stored, err := b.store.RunGet(t.Context(), run.ID)
	require.NoError(t, err)
	require.Equal(t, run.Outcome, stored.Outcome)
	require.NotNil(t, stored.FinishedAt)
	return stored
}

// runOK runs the reconciler once, requires the run to be clean and returns
// it as stored.
func (b *bundle) runOK(t *testing.T) *models.ReconcileRun {
	t.Helper()
	run := b.run(t)
	requireOK(t, run)
	return run
}

func (b *bundle) payout(t *testing.T, id string) *models.Payout {
	t.Helper()
	p, err := b.store.PayoutGet(t.Context(), id)
	require.NoError(t, err)
	return p
}

func (b *bundle) payoutByTxn(t *testing.T, txn string) *models.Payout {
	t.Helper()
	ps, _, err := b.store.PayoutList(t.Context(), models.PayoutFilter{Transaction: txn})
	require.NoError(t, err)
	require.Len(t, ps, 1, "payouts with transaction %s", txn)
	return &ps[0]
}

// lastApplied is the newest history row that changed the payout.
func (b *bundle) lastApplied(t *testing.T, id string) models.PayoutHistory {
	t.Helper()
	hs, err := b.store.PayoutHistoryList(t.Context(), id)
	require.NoError(t, err)
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Applied {
			return hs[i]
		}
	}
	t.Fatalf("payout %s has no applied history", id)
	return models.PayoutHistory{}
}

// txn is a payout's Coinflow transaction signature.
func txn(t *testing.T, p *models.Payout) string {
	t.Helper()
	require.NotNil(t, p.CoinflowTransaction, "payout %s has no transaction", p.ID)
	return *p.CoinflowTransaction
}

// key names a finding: its kind, subject and severity.
type key struct {
	Kind     models.FindingKind
	Subject  string
	Severity models.Severity
}

func (k key) String() string { return string(k.Kind) + " " + k.Subject + " " + string(k.Severity) }

// requireOpen requires the unresolved findings to be exactly want, and
// returns them by kind and subject.
func (b *bundle) requireOpen(t *testing.T, want ...key) map[string]models.Finding {
	t.Helper()
	var fs []models.Finding
	require.NoError(t, b.store.DB().WithContext(t.Context()).Where("resolved_at IS NULL").Find(&fs).Error)
	got := make([]string, 0, len(fs))
	byKey := map[string]models.Finding{}
	for _, f := range fs {
		got = append(got, key{f.Kind, f.Subject, f.Severity}.String())
		byKey[string(f.Kind)+" "+f.Subject] = f
	}
	wantS := make([]string, 0, len(want))
	for _, k := range want {
		wantS = append(wantS, k.String())
	}
	slices.Sort(got)
	slices.Sort(wantS)
	require.Equal(t, wantS, got, "open findings")
	return byKey
}

// finding loads the one finding (kind, subject), resolved or not.
func (b *bundle) findings(t *testing.T, kind models.FindingKind, subject string) []models.Finding {
	t.Helper()
	var fs []models.Finding
	require.NoError(t, b.store.DB().WithContext(t.Context()).
		Where("kind = ? AND subject = ?", kind, subject).Order("first_seen_at, id").Find(&fs).Error)
	return fs
}

// requireResolved requires the finding (kind, subject) to be the only one
// ever raised for it, and resolved by run at the clock's present time.
func (b *bundle) requireResolved(t *testing.T, run *models.ReconcileRun, kind models.FindingKind, subject string) {
	t.Helper()
	fs := b.findings(t, kind, subject)
	require.Len(t, fs, 1)
	require.Equal(t, models.FindingResolved, fs[0].Status)
	require.NotNil(t, fs[0].ResolvedAt)
	require.True(t, b.clock.Now().Equal(*fs[0].ResolvedAt), "resolved at %s, want %s", *fs[0].ResolvedAt, b.clock.Now())
	require.NotNil(t, fs[0].ResolvedRunID)
	require.Equal(t, run.ID, *fs[0].ResolvedRunID)
}

func (b *bundle) countFindings(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.store.DB().WithContext(t.Context()).Model(&models.Finding{}).Count(&n).Error)
	return n
}

// requireDetails requires a finding's details to be exactly want, compared
// as JSON (numbers as numbers, times as instants).
func requireDetails(t *testing.T, want models.Details, f models.Finding) {
	t.Helper()
	require.Equal(t, normJSON(t, want), normJSON(t, f.Details), "details of %s %s", f.Kind, f.Subject)
}

func normJSON(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(raw, &out))
	return normTimes(out)
}

// normTimes rewrites every RFC 3339 string as the same instant in UTC, so
// that a time read back from either database compares with one built here.
func normTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normTimes(e)
		}
	case string:
		if len(x) >= 20 && strings.Contains(x, "T") {
			if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return tm.UTC().Format(time.RFC3339Nano)
			}
		}
	}
	return v
}

func usd(cents int64) models.Money { return models.Money{Cents: cents, Currency: "USD"} }

// counts is a run's non-zero counters as integers (the stored JSON holds
// them as numbers).
func counts(t *testing.T, run *models.ReconcileRun) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for k, v := range run.Counts {
		var n int64
		switch x := v.(type) {
		case float64:
			n = int64(x)
			require.Equal(t, float64(n), x, "count %s is not an integer", k)
		case int64:
			n = x
		default:
			t.Fatalf("count %s has type %T", k, v)
		}
		if n != 0 {
			out[k] = n
		}
	}
	return out
}

func requireOK(t *testing.T, run *models.ReconcileRun) {
	t.Helper()
	require.Equal(t, models.RunOK, run.Outcome, "problems: %v", run.Problems)
	require.Empty(t, run.Problems)
}

// createPayout records a payout directly in the store, as if payoutd had
// sent it (source api, created now on the store clock).
func (b *bundle) createPayout(t *testing.T, p models.Payout) *models.Payout {
	t.Helper()
	if p.UserID == "" {
		p.UserID = userOK
	}
	if p.Amount.Currency == "" {
		p.Amount = usd(p.Amount.Cents)
	}
	if p.Source == "" {
		p.Source = models.OriginAPI
	}
	require.NoError(t, b.store.PayoutCreate(t.Context(), &p, models.SourceAPI, nil))
	return b.payout(t, p.ID)
}

// apply records evidence about a payout directly, as a webhook would,
// through the one decision, and returns it.
func (b *bundle) apply(t *testing.T, id string, status models.PayoutStatus, at time.Time) decide.Decision {
	t.Helper()
	d, err := dbtest.Apply(t.Context(), b.store, id, decide.Withdrawal{Source: models.SourceWebhook, Status: status, At: at})
	require.NoError(t, err)
	return d
}

// snapshots returns the wallet snapshots so far, oldest first.
func (b *bundle) snapshots(t *testing.T) []models.WalletSnapshot {
	t.Helper()
	ws, err := b.store.WalletSnapshotList(t.Context(), start.Add(-time.Hour), b.clock.Now().Add(time.Hour))
	require.NoError(t, err)
	return ws
}

func ptr[T any](v T) *T { return &v }
