package coinflowtest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/contract"
)

const webhookKey = "test-validation-key-3c1f9a7e5b2d4c6e"

// received is one request the webhook receiver got.
type received struct {
	Body          []byte
	Authorization string
	Signature     string
	ContentType   string
}

// receiver is a webhook endpoint: respond picks the status of the nth
// request (1-based); default 200.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	respond func(n int) int
}

func newReceiver(t *testing.T, respond func(n int) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{
			Body: body, Authorization: r.Header.Get("Authorization"),
			Signature: r.Header.Get("Coinflow-Signature"), ContentType: r.Header.Get("Content-Type"),
		})
		n := len(rc.reqs)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.respond != nil {
			status = rc.respond(n)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// envelope is a decoded webhook body.
type envelope struct {
	EventType string `json:"eventType"`
	Category  string `json:"category"`
	Created   string `json:"created"`
	Data      struct {
		Wallet         string `json:"wallet"`
		Blockchain     string `json:"blockchain"`
		Signature      string `json:"signature"`
		Email          string `json:"email"`
		MerchantID     string `json:"merchantId"`
		UserID         string `json:"userId"`
		IdempotencyKey string `json:"idempotencyKey"`
		Currency       string `json:"currency"`
		Total          money  `json:"total"`
		MerchantFees   money  `json:"merchantFees"`
		UserFees       money  `json:"userFees"`
	} `json:"data"`
}

type money struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

func (rc *receiver) envelopes(t *testing.T) []envelope {
	t.Helper()
	var out []envelope
	for _, r := range rc.all() {
		var e envelope
		require.NoError(t, json.Unmarshal(r.Body, &e))
		out = append(out, e)
	}
	return out
}

func eventTypes(envs []envelope) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.EventType)
	}
	return out
}

// verifySignature checks a Coinflow-Signature header against body with an
// HMAC computed here, independently of coinflowtest.Sign.
func verifySignature(t *testing.T, key, header string, body []byte) time.Time {
	t.Helper()
	var ts, v1 string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	require.NotEmpty(t, ts, "t in %q", header)
	got, err := hex.DecodeString(v1)
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + "." + string(body)))
	require.True(t, hmac.Equal(got, mac.Sum(nil)), "signature %q does not verify", header)
	unix, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	return time.Unix(unix, 0)
}

// bundle is a running emulator with a client.
type bundle struct {
	srv  *coinflowtest.Server
	hook *receiver

	validOnce    sync.Once
	validator    *contract.Validator
	validatorErr error
}

type setupOpts struct {
	opts    coinflowtest.Options
	respond func(n int) int
	noHook  bool
}

func setup(t *testing.T, so setupOpts) *bundle {
	t.Helper()
	b := &bundle{}
	opts := so.opts
	if !so.noHook {
		b.hook = newReceiver(t, so.respond)
		opts.WebhookURL = b.hook.srv.URL
	}
	opts.WebhookKey = webhookKey
	if opts.InitialBalanceCents == 0 {
		opts.InitialBalanceCents = 10_000_000
	}
	if opts.WebhookRetry.Initial == 0 {
		opts.WebhookRetry.Initial = 5 * time.Millisecond
		opts.WebhookRetry.Max = 20 * time.Millisecond
	}
	b.srv = coinflowtest.NewServer(opts)
	t.Cleanup(b.srv.Close)
	return b
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body %s", r.Body)
}

func (r response) msg(t *testing.T) string {
	t.Helper()
	var m struct {
		Msg string `json:"msg"`
	}
	r.decode(t, &m)
	return m.Msg
}

// call makes a request with the API key; headers are name, value pairs.
func (b *bundle) call(t *testing.T, method, path string, body any, headers ...string) response {
	t.Helper()
	return b.callKey(t, b.srv.APIKey(), method, path, body, headers...)
}

func (b *bundle) callKey(t *testing.T, key, method, path string, body any, headers ...string) response {
	t.Helper()
	r, _, _ := b.do(t, key, method, path, body, headers...)
	return r
}

// do makes a request and returns the answer, the request and its body.
func (b *bundle) do(t *testing.T, key, method, path string, body any, headers ...string) (response, *http.Request, []byte) {
	t.Helper()
	var raw []byte
	switch v := body.(type) {
	case nil:
	case string:
		raw = []byte(v)
	default:
		var err error
		raw, err = json.Marshal(v)
		require.NoError(t, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: got}, req, raw
}

// specCall makes a request like call, wants status, and requires the
// request and the answer to conform to openapi-payouts.json (known
// contradictions aside): for the exchanges the spec documents.
func (b *bundle) specCall(t *testing.T, want int, method, path string, body any, headers ...string) response {
	t.Helper()
	r, req, raw := b.do(t, b.srv.APIKey(), method, path, body, headers...)
	require.Equal(t, want, r.Status, "%s %s: %s", method, path, r.Body)
	b.validOnce.Do(func() {
		b.validator, b.validatorErr = contract.New(b.srv.URL)
	})
	require.NoError(t, b.validatorErr)
	ex := b.validator.Check(req, raw, r.Status, r.Header, r.Body)
	require.NoError(t, ex.RequestErr, "request %s %s", method, path)
	require.NoError(t, ex.ResponseErr, "answer %d to %s %s: %s", r.Status, method, path, r.Body)
	return r
}

type payoutResp struct {
	Signature      string `json:"signature"`
	EffectiveSpeed string `json:"effectiveSpeed"`
}

// payout requests a delegated payout.
func (b *bundle) payout(t *testing.T, user, account, speed string, cents int64, key string) response {
	t.Helper()
	return b.call(t, http.MethodPost, "/merchant/withdraws/payout/delegated", map[string]any{
		"idempotencyKey": key, "speed": speed, "account": account, "userId": user,
		"amount": map[string]any{"cents": cents, "currency": "USD"}, "waitForConfirmation": true,
	})
}

// mustPayout requests a payout that must succeed.
func (b *bundle) mustPayout(t *testing.T, user, account, speed string, cents int64, key string) payoutResp {
	t.Helper()
	r := b.payout(t, user, account, speed, cents, key)
	require.Equal(t, http.StatusOK, r.Status, "payout: %s", r.Body)
	var p payoutResp
	r.decode(t, &p)
	return p
}

// addUser registers an approved withdrawer with bank token bnk_<user>.
func (b *bundle) addUser(t *testing.T, user string) coinflowtest.Withdrawer {
	t.Helper()
	w, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: user, BankToken: "bnk_" + user, CardToken: "crd_" + user})
	require.NoError(t, err)
	return w
}

func (b *bundle) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.srv.WaitWebhooks(ctx))
}

// withdraw fetches GET /merchant/withdraws/{id}.
func (b *bundle) withdraw(t *testing.T, id string) map[string]any {
	t.Helper()
	r := b.call(t, http.MethodGet, "/merchant/withdraws/"+id, nil)
	require.Equal(t, http.StatusOK, r.Status, "get %s: %s", id, r.Body)
	var out struct {
		Withdrawal map[string]any `json:"withdrawal"`
	}
	r.decode(t, &out)
	return out.Withdrawal
}

func key(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
