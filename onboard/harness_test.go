package onboard_test

import (
	"context"
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
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/reconcile"
)

const apiKey = "flow-test-api-key"

var start = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// flow is payoutd in-process (API, webhook pipeline, follower, reconciler)
// against the Coinflow emulator, on one clock.
type flow struct {
	t        *testing.T
	store    *models.Store
	clock    *dbtest.Clock
	emu      *coinflowtest.Server
	srv      *testserver.Server
	follower *kyc.Follower
	rec      *reconcile.Reconciler
	logs     *logtest.Hook // the follower's and reconciler's log
}

type flowOptions struct {
	emu      coinflowtest.Options
	follower kyc.Config
}

func newFlow(t *testing.T, store *models.Store, clock *dbtest.Clock, opts flowOptions) *flow {
	t.Helper()
	eo := opts.emu
	eo.APIKey, eo.WebhookKey = apiKey, testserver.WebhookKey
	eo.Start, eo.SignNowFunc = clock.Now(), clock.Now
	if eo.InitialBalanceCents == 0 {
		eo.InitialBalanceCents = 50_000_000_00
	}
	eo.WebhookRetry = coinflowtest.RetryPolicy{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, GiveUpAfter: 20 * time.Second}
	emu := coinflowtest.NewServer(eo)
	t.Cleanup(emu.Close)
	client := func(attempts int) *coinflow.Client {
		cf, err := coinflow.New(coinflow.Config{
			BaseURL: emu.URL, APIKey: apiKey, Timeout: 5 * time.Second, MaxAttempts: attempts,
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
	f := &flow{t: t, store: store, clock: clock, emu: emu, srv: srv, logs: hook}
	lone := client(1)
	ob, err := onboard.New(store, lone, logger.WithField("component", "kyc"), onboard.Config{})
	require.NoError(t, err)
	fcfg := opts.follower
	if fcfg.Sleep == nil {
		fcfg.Sleep = func(_ context.Context, d time.Duration) error { f.advance(d); return nil }
	}
	f.follower, err = kyc.New(store, lone, ob, logger.WithField("component", "kyc"), fcfg)
	require.NoError(t, err)
	f.rec, err = reconcile.New(store, cf, logger.WithField("component", "reconcile"), srv.Metrics.NewReconcile(), reconcile.Config{})
	require.NoError(t, err)
	return f
}

// advance moves payoutd's clock and the emulator's together.
func (f *flow) advance(d time.Duration) {
	f.clock.Advance(d)
	f.emu.Advance(d)
}

// settle delivers the emulator's webhooks and applies them.
func (f *flow) settle() {
	f.t.Helper()
	require.NoError(f.t, f.emu.WaitWebhooks(f.t.Context()))
	f.srv.Drain(f.t)
}

// call sends an API request and decodes the answer into a generic map.
func (f *flow) call(method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	var out map[string]any
	status := f.srv.API(f.t, method, path, body, &out)
	return status, out
}

// callRaw sends an API request and returns the raw answer.
func (f *flow) callRaw(method, path string, body any) (int, string) {
	f.t.Helper()
	var raw rawAnswer
	status := f.srv.API(f.t, method, path, body, &raw)
	return status, string(raw)
}

type rawAnswer []byte

func (r *rawAnswer) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// completeAtLink plays the person finishing verification on Coinflow's
// hosted page: it posts the result to the link.
func (f *flow) completeAtLink(link string, approved bool) {
	f.t.Helper()
	result := "rejected"
	if approved {
		result = "approved"
	}
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"result": {result}}.Encode()))
	require.NoError(f.t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	require.Less(f.t, resp.StatusCode, 400, "hosted verification answered %d", resp.StatusCode)
}

// errorCode is an error answer's code.
func errorCode(a map[string]any) string {
	e, _ := a["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func str(a map[string]any, key string) string {
	s, _ := a[key].(string)
	return s
}

func usRegistration(user string) map[string]any {
	return map[string]any{
		"user_id": user, "email": user + "@example.com", "country": "US", "first_name": "Ada", "last_name": "Lovelace",
		"ssn": "123-45-6789", "dob": "1990-04-12",
		"address": map[string]any{"line1": "1 Main St", "city": "Austin", "state": "TX", "zip": "78701"},
	}
}

func money(cents int64, currency string) map[string]any {
	return map[string]any{"cents": cents, "currency": currency}
}

// bankAccount is the US bank account the tests save; its number must
// never come back out of payoutd.
var bankAccount = map[string]any{
	"type": "bank_account", "routing_number": "021000021", "account_number": "000123456789", "account_type": "checking", "name": "Ada Lovelace",
}

// saveBank saves bankAccount for user and requires 201.
func (f *flow) saveBank(user string) map[string]any {
	f.t.Helper()
	return f.save(user, bankAccount)
}
