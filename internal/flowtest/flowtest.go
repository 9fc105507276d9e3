// Package flowtest runs payoutd in-process (API, webhook pipeline, KYC
// follower, reconciler) against the Coinflow emulator on one clock, for
// tests of the whole flow: register, save a destination, quote, pay.
package flowtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/kyc"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/reconcile"
)

// APIKey is the emulator's merchant API key.
const APIKey = "flow-test-api-key"

// Start is the tests' clock start.
var Start = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// Flow is payoutd in-process (API, webhook pipeline, follower, reconciler)
// against the Coinflow emulator, on one clock.
type Flow struct {
	T        *testing.T
	Store    *models.Store
	Clock    *dbtest.Clock
	Emu      *coinflowtest.Server
	Srv      *testserver.Server
	Follower *kyc.Follower
	Rec      *reconcile.Reconciler
	// KYCMetrics are the follower's metrics.
	KYCMetrics *metrics.KYC
	// Answers are the bodies of every API answer, in order, for tests that
	// look for what must never come out.
	Answers []string
	Logs    *logtest.Hook // the follower's and reconciler's log
}

type Options struct {
	Emu      coinflowtest.Options
	Follower kyc.Config
}

func New(t *testing.T, store *models.Store, clock *dbtest.Clock, opts Options) *Flow {
	t.Helper()
	eo := opts.Emu
	eo.APIKey, eo.WebhookKey = APIKey, testserver.WebhookKey
	eo.Start, eo.SignNowFunc = clock.Now(), clock.Now
	if eo.InitialBalanceCents == 0 {
		eo.InitialBalanceCents = 50_000_000_00
	}
	eo.WebhookRetry = coinflowtest.RetryPolicy{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, GiveUpAfter: 20 * time.Second}
	emu := coinflowtest.NewServer(eo)
	t.Cleanup(emu.Close)
	client := func(attempts int) *coinflow.Client {
		cf, err := coinflow.New(coinflow.Config{
			BaseURL: emu.URL, APIKey: APIKey, Timeout: 5 * time.Second, MaxAttempts: attempts,
			BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		})
		require.NoError(t, err)
		return cf
	}
	cf := client(3)
	srv := testserver.Start(t, store, testserver.Options{Coinflow: cf, Clock: clock})
	emu.SetWebhookURL(srv.URL + "/webhooks/coinflow")

	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	f := &Flow{T: t, Store: store, Clock: clock, Emu: emu, Srv: srv, Logs: hook}
	lone := client(1)
	ob, err := onboard.New(store, lone, logger.WithField("component", "kyc"), onboard.Config{})
	require.NoError(t, err)
	fcfg := opts.Follower
	if fcfg.Metrics == nil {
		fcfg.Metrics = srv.Metrics.NewKYC()
	}
	f.KYCMetrics = fcfg.Metrics
	if fcfg.Sleep == nil {
		fcfg.Sleep = func(_ context.Context, d time.Duration) error { f.Advance(d); return nil }
	}
	f.Follower, err = kyc.New(store, lone, ob, logger.WithField("component", "kyc"), fcfg)
	require.NoError(t, err)
	f.Rec, err = reconcile.New(store, cf, logger.WithField("component", "reconcile"), srv.Metrics.NewReconcile(), reconcile.Config{})
	require.NoError(t, err)
	return f
}

// Advance moves payoutd's clock and the emulator's together.
func (f *Flow) Advance(d time.Duration) {
	f.Clock.Advance(d)
	f.Emu.Advance(d)
}

// Settle delivers the emulator's webhooks and applies them.
func (f *Flow) Settle() {
	f.T.Helper()
	require.NoError(f.T, f.Emu.WaitWebhooks(f.T.Context()))
	f.Srv.Drain(f.T)
}

// Call sends an API request, keeps the answer in Answers, and decodes it
// into a generic map (nil for an empty body).
func (f *Flow) Call(method, path string, body any) (int, map[string]any) {
	f.T.Helper()
	var raw rawAnswer
	status := f.Srv.API(f.T, method, path, body, &raw)
	f.Answers = append(f.Answers, string(raw))
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(f.T, json.Unmarshal(raw, &out), "%s %s", method, path)
	}
	return status, out
}

// rawAnswer keeps a JSON answer as it came.
type rawAnswer []byte

func (r *rawAnswer) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// CompleteAtLink plays the person finishing verification on Coinflow's
// hosted page: it posts the result to the link.
func (f *Flow) CompleteAtLink(link string, approved bool) {
	f.T.Helper()
	result := "rejected"
	if approved {
		result = "approved"
	}
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"result": {result}}.Encode()))
	require.NoError(f.T, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	require.Less(f.T, resp.StatusCode, 400, "hosted verification answered %d", resp.StatusCode)
}

// ErrorCode is an error answer's code.
func ErrorCode(a map[string]any) string {
	e, _ := a["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// Str is a string field of an answer, "" when absent.
func Str(a map[string]any, key string) string {
	s, _ := a[key].(string)
	return s
}

// USRegistration is a complete US registration for user.
func USRegistration(user string) map[string]any {
	return map[string]any{
		"user_id": user, "email": user + "@example.com", "country": "US", "first_name": "Ada", "last_name": "Lovelace",
		"ssn": "123-45-6789", "dob": "1990-04-12",
		"address": map[string]any{"line1": "1 Main St", "city": "Austin", "state": "TX", "zip": "78701"},
	}
}

// Money is an API amount.
func Money(cents int64, currency string) map[string]any {
	return map[string]any{"cents": cents, "currency": currency}
}

// BankAccount is the US bank account the tests save; its number must
// never come back out of payoutd.
var BankAccount = map[string]any{
	"type": "bank_account", "routing_number": "021000021", "account_number": "000123456789", "account_type": "checking", "name": "Ada Lovelace",
}

// SaveBank saves bankAccount for user and requires 201.
func (f *Flow) SaveBank(user string) map[string]any {
	f.T.Helper()
	return f.Save(user, BankAccount)
}

// Register registers a withdrawer and requires the status.
func (f *Flow) Register(body map[string]any, want int) map[string]any {
	f.T.Helper()
	status, a := f.Call(http.MethodPost, "/api/v1/withdrawers", body)
	require.Equal(f.T, want, status, "register: %v", a)
	return a
}

// Save saves a destination and requires 201.
func (f *Flow) Save(user string, body map[string]any) map[string]any {
	f.T.Helper()
	status, a := f.Call(http.MethodPost, "/api/v1/withdrawers/"+user+"/destinations", body)
	require.Equal(f.T, http.StatusCreated, status, "save destination: %v", a)
	return a
}

// Pay pays and requires 201 pending.
func (f *Flow) Pay(user string, cents int64, currency, speed, account string) map[string]any {
	f.T.Helper()
	status, a := f.Call(http.MethodPost, "/api/v1/payouts", map[string]any{
		"user_id": user, "amount": Money(cents, currency), "speed": speed, "account": account,
	})
	require.Equal(f.T, http.StatusCreated, status, "pay: %v", a)
	require.Equal(f.T, "pending", Str(a, "status"))
	return a
}

// ApproveGerman registers a German withdrawer, requires 202 with a link,
// and has the person complete verification at that link.
func (f *Flow) ApproveGerman(user string, deliver bool) {
	f.T.Helper()
	a := f.Register(map[string]any{"user_id": user, "email": user + "@example.de", "country": "DE"}, http.StatusAccepted)
	require.Equal(f.T, "pending", Str(a, "verification_status"))
	link := Str(a, "verification_link")
	require.NotEmpty(f.T, link)
	f.CompleteAtLink(link, true)
	if deliver {
		f.Settle()
	}
}

// ToMoney reads an API amount with integer cents.
func ToMoney(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	out := map[string]any{"currency": m["currency"]}
	if c, ok := m["cents"].(float64); ok {
		out["cents"] = int64(c)
	}
	return out
}

// EveryOp is every Coinflow operation the emulator counts.
var everyOp = []string{
	coinflowtest.OpListWithdraws, coinflowtest.OpGetWithdraw, coinflowtest.OpBalance, coinflowtest.OpQuote,
	coinflowtest.OpPayout, coinflowtest.OpWithdrawers, coinflowtest.OpBlockWithdrawer, coinflowtest.OpListWebhooks,
	coinflowtest.OpResendWebhook, coinflowtest.OpGetWithdrawer, coinflowtest.OpWithdrawQuote, coinflowtest.OpKYC,
	coinflowtest.OpAddBankAccount, coinflowtest.OpAddDebitCard, coinflowtest.OpAddIBAN, coinflowtest.OpAddPIX,
	coinflowtest.OpDeleteBankAccount, coinflowtest.OpDeleteCard, coinflowtest.OpDeleteIBAN, coinflowtest.OpDeletePIX,
	coinflowtest.OpSessionKey,
}

// CoinflowCalls is how many calls the emulator has answered.
func (f *Flow) CoinflowCalls() int {
	n := 0
	for _, op := range everyOp {
		n += f.Emu.Calls(op)
	}
	return n
}
