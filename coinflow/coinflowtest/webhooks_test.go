package coinflowtest_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return slices.Sorted(maps.Keys(m))
}

func TestWebhookMatchesFixtureShape(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1001")
	p := b.mustPayout(t, "u-1001", "bnk_u-1001", "same_day", 25_000, key(1))
	b.wait(t)

	got := b.hook.all()
	require.Len(t, got, 1)
	r := got[0]
	require.Equal(t, "application/json", r.ContentType)
	require.Equal(t, webhookKey, r.Authorization)
	signedAt := verifySignature(t, webhookKey, r.Signature, r.Body)
	require.WithinDuration(t, time.Now(), signedAt, time.Minute, "signed at the real send time")

	fixture, err := os.ReadFile("../../testdata/coinflow/fixtures/webhooks/withdraw-pending.json")
	require.NoError(t, err)
	var want, have struct {
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(fixture, &want))
	require.NoError(t, json.Unmarshal(r.Body, &have))
	require.Equal(t, keysOf(t, fixture), keysOf(t, r.Body))
	require.Equal(t, keysOf(t, want.Data), keysOf(t, have.Data))

	env := b.hook.envelopes(t)[0]
	require.Equal(t, "Withdraw Pending", env.EventType)
	require.Equal(t, "Withdraw", env.Category)
	require.Equal(t, "2025-06-02T14:00:00.000Z", env.Created)
	require.Equal(t, p.Signature, env.Data.Signature)
	require.Equal(t, "solana", env.Data.Blockchain)
	require.Equal(t, b.srv.SettlementWallet(), env.Data.Wallet)
	require.Equal(t, "acme-payouts", env.Data.MerchantID)
	require.Equal(t, "u-1001", env.Data.UserID)
	require.Equal(t, key(1), env.Data.IdempotencyKey)
	require.Equal(t, money{25_000, "USD"}, env.Data.Total)
	require.Equal(t, money{150, "USD"}, env.Data.MerchantFees)
	require.Equal(t, money{0, "USD"}, env.Data.UserFees)
}

func TestWebhookRetriesUntil200(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{respond: func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}})
	b.addUser(t, "u-1")
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	b.wait(t)

	ds := b.srv.Deliveries()
	require.Len(t, ds, 1)
	require.Equal(t, 3, ds[0].Attempts)
	require.Equal(t, 200, ds[0].LastStatus)
	require.True(t, ds[0].Delivered)
	require.Equal(t, p.Signature, ds[0].Transaction)

	got := b.hook.all()
	require.Len(t, got, 3)
	for _, r := range got {
		require.Equal(t, string(got[0].Body), string(r.Body), "every attempt sends the same bytes")
		verifySignature(t, webhookKey, r.Signature, r.Body)
	}

	var rows []struct {
		ID           string          `json:"id"`
		EventType    string          `json:"eventType"`
		Version      string          `json:"version"`
		ResponseCode int             `json:"responseCode"`
		URL          string          `json:"url"`
		Data         json.RawMessage `json:"data"`
	}
	b.call(t, http.MethodGet, "/merchant/webhooks?transactionId="+p.Signature, nil).decode(t, &rows)
	require.Len(t, rows, 3)
	require.Equal(t, []int{500, 500, 200}, []int{rows[0].ResponseCode, rows[1].ResponseCode, rows[2].ResponseCode})
	require.Equal(t, "Version 2", rows[0].Version)
	require.Equal(t, b.hook.srv.URL, rows[0].URL)

	b.call(t, http.MethodGet, "/merchant/webhooks?responseCode=500&limit=1&page=2", nil).decode(t, &rows)
	require.Len(t, rows, 1)
	require.Equal(t, 500, rows[0].ResponseCode)
	b.call(t, http.MethodGet, "/merchant/webhooks?eventType=Withdraw+Success", nil).decode(t, &rows)
	require.Empty(t, rows)

	// Resend re-delivers the event, signed anew.
	r := b.call(t, http.MethodPost, "/merchant/webhooks/"+rows0(t, b).ID, nil)
	require.Equal(t, http.StatusOK, r.Status)
	var job struct {
		JobID int `json:"jobId"`
	}
	r.decode(t, &job)
	require.Equal(t, 1, job.JobID)
	b.wait(t)
	require.Len(t, b.hook.all(), 4)
	require.True(t, b.srv.Deliveries()[1].Resent)
	require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPost, "/merchant/webhooks/nope", nil).Status)
}

type row struct {
	ID string `json:"id"`
}

func rows0(t *testing.T, b *bundle) row {
	t.Helper()
	var rows []row
	b.call(t, http.MethodGet, "/merchant/webhooks", nil).decode(t, &rows)
	require.NotEmpty(t, rows)
	return rows[0]
}

func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{
		respond: func(int) int { return http.StatusAccepted }, // 2xx but not 200: retried
		opts: coinflowtest.Options{WebhookRetry: coinflowtest.RetryPolicy{
			Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond, GiveUpAfter: 250 * time.Millisecond,
		}},
	})
	b.addUser(t, "u-1")
	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	b.wait(t)
	d := b.srv.Deliveries()[0]
	require.True(t, d.GaveUp)
	require.False(t, d.Delivered)
	require.Greater(t, d.Attempts, 2)
	require.Equal(t, 202, d.LastStatus)
}

func TestWebhookAttemptTimeout(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			// Hold the first attempt past the emulator's timeout. The body
			// is read first: only then does the server notice the client
			// hanging up.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(slow.Close)
	b := setup(t, setupOpts{noHook: true, opts: coinflowtest.Options{
		WebhookURL:   slow.URL,
		WebhookRetry: coinflowtest.RetryPolicy{Initial: 5 * time.Millisecond, Timeout: 100 * time.Millisecond},
	}})
	b.addUser(t, "u-1")
	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	b.wait(t)
	d := b.srv.Deliveries()[0]
	require.True(t, d.Delivered)
	require.Equal(t, 2, d.Attempts)
	var rows []struct {
		ResponseCode int `json:"responseCode"`
	}
	b.call(t, http.MethodGet, "/merchant/webhooks", nil).decode(t, &rows)
	require.Equal(t, 0, rows[0].ResponseCode, "no answer within the timeout")
	require.Equal(t, 200, rows[1].ResponseCode)
}

func TestWebhookFaultDrop(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	b.srv.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 1})
	lost := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	kept := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(2))
	b.wait(t)
	envs := b.hook.envelopes(t)
	require.Len(t, envs, 1)
	require.Equal(t, kept.Signature, envs[0].Data.Signature)
	ds := b.srv.Deliveries()
	require.True(t, ds[0].Dropped)
	require.Equal(t, lost.Signature, ds[0].Transaction)
	require.Zero(t, ds[0].Attempts)

	b.srv.SetWebhookFaults(coinflowtest.WebhookFaults{DropRate: 1, Seed: 7})
	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(3))
	b.srv.ClearWebhookFaults()
	b.wait(t)
	require.Len(t, b.hook.all(), 1)
	require.True(t, b.srv.Deliveries()[2].Dropped)
}

func TestWebhookFaultDuplicate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	b.srv.SetWebhookFaults(coinflowtest.WebhookFaults{Duplicate: true})
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	b.wait(t)
	got := b.hook.all()
	require.Len(t, got, 2)
	require.Equal(t, string(got[0].Body), string(got[1].Body))
	for _, e := range b.hook.envelopes(t) {
		require.Equal(t, p.Signature, e.Data.Signature)
	}
	require.True(t, b.srv.Deliveries()[1].Duplicate)
}

func TestWebhookFaultDelay(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	const delay = 150 * time.Millisecond
	b.srv.SetWebhookFaults(coinflowtest.WebhookFaults{Delay: delay})
	start := time.Now()
	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	require.Empty(t, b.hook.all(), "not sent before the delay")
	b.wait(t)
	require.GreaterOrEqual(t, time.Since(start), delay)
	require.Len(t, b.hook.all(), 1)
}

func TestWebhookFaultReorder(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	b.srv.SetWebhookFaults(coinflowtest.WebhookFaults{Reorder: true})
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	b.srv.Advance(time.Hour)
	require.Empty(t, b.hook.all(), "held until a flush")
	b.wait(t) // flushes
	envs := b.hook.envelopes(t)
	require.Equal(t, []string{"Withdraw Success", "Withdraw Pending"}, eventTypes(envs))
	require.Equal(t, p.Signature, envs[0].Data.Signature)
}

func TestWebhookWithoutURLIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	b.wait(t)
	ds := b.srv.Deliveries()
	require.Len(t, ds, 1)
	require.True(t, ds[0].NoURL)
	require.Zero(t, ds[0].Attempts)

	hook := newReceiver(t, nil)
	b.srv.SetWebhookURL(hook.srv.URL)
	b.srv.Advance(time.Hour)
	b.wait(t)
	require.Len(t, hook.all(), 1, "later events go to the new URL")
}

// A delivery failed for good (FailNext) is in the activity log, one row per
// attempt, unanswered; a resend of any of its rows delivers the same bytes,
// signed anew, logged as a new row.
func TestWebhookFaultFailForGood(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{opts: coinflowtest.Options{WebhookRetry: coinflowtest.RetryPolicy{
		Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond, GiveUpAfter: time.Hour,
	}}})
	b.addUser(t, "u-1")
	b.srv.SetWebhookFaults(coinflowtest.WebhookFaults{FailNext: 1, FailAttempts: 2})
	lost := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	kept := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(2))
	b.wait(t) // returns long before GiveUpAfter: the fault gives up after 2 attempts

	envs := b.hook.envelopes(t)
	require.Len(t, envs, 1, "the failed delivery never reached the receiver")
	require.Equal(t, kept.Signature, envs[0].Data.Signature)
	ds := b.srv.Deliveries()
	require.True(t, ds[0].Undeliverable)
	require.True(t, ds[0].GaveUp)
	require.Equal(t, 2, ds[0].Attempts)
	require.Equal(t, 0, ds[0].LastStatus)
	require.False(t, ds[1].Undeliverable)

	type logRow struct {
		ID           string          `json:"id"`
		ResponseCode int             `json:"responseCode"`
		URL          string          `json:"url"`
		Data         json.RawMessage `json:"data"`
	}
	var rows []logRow
	b.call(t, http.MethodGet, "/merchant/webhooks?transactionId="+lost.Signature, nil).decode(t, &rows)
	require.Len(t, rows, 2, "one row per attempt")
	require.NotEqual(t, rows[0].ID, rows[1].ID)
	for _, r := range rows {
		require.Equal(t, 0, r.ResponseCode, "no answer")
		require.Equal(t, b.hook.srv.URL, r.URL)
		require.Contains(t, string(r.Data), lost.Signature)
	}
	b.call(t, http.MethodGet, "/merchant/webhooks?responseCode=0", nil).decode(t, &rows)
	require.Len(t, rows, 2, "the failed attempts are found by their code")

	require.Equal(t, http.StatusOK, b.call(t, http.MethodPost, "/merchant/webhooks/"+rows[1].ID, nil).Status)
	b.wait(t)
	got := b.hook.all()
	require.Len(t, got, 2)
	require.Equal(t, string(ds[0].Body), string(got[1].Body), "the resend carries the event's bytes")
	verifySignature(t, webhookKey, got[1].Signature, got[1].Body)
	b.call(t, http.MethodGet, "/merchant/webhooks?transactionId="+lost.Signature, nil).decode(t, &rows)
	require.Len(t, rows, 3, "the resend is a new attempt in the log")
	require.Equal(t, 200, rows[2].ResponseCode)
	require.True(t, b.srv.Deliveries()[2].Resent)
}
