package coinflow_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

func TestWebhookActivityPagesUntilShortPage(t *testing.T) {
	t.Parallel()
	one := `[{"id":"6650a1b2c3d4e5f607080903","merchantId":"acme-payouts","eventType":"KYC Success","category":"KYC",
		"version":"Version 2","data":{"eventType":"KYC Success","category":"KYC","created":"2025-06-02T19:00:00.000Z",
		"data":{"wallet":"w1","blockchain":"user","email":"a@example.com"}},"sentAt":"2025-06-02T19:41:00Z","url":"https://acme.example/hooks/coinflow","responseCode":0}]`
	stub, c := newStub(t, reply{status: 200, body: fixture(t, "merchant-webhooks.json")}, reply{status: 200, body: one})
	since := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var got []coinflow.WebhookDisplay
	for d, err := range c.WebhookActivity(t.Context(), coinflow.WebhookActivityParams{
		Since: since, Until: since.Add(48 * time.Hour), ResponseCode: "503", EventType: "Withdraw Success", Limit: 2,
	}) {
		require.NoError(t, err)
		got = append(got, d)
	}
	sent := stub.requests()
	require.Len(t, sent, 2, "a page shorter than the first ends the stream")
	for i, r := range sent {
		requireSent(t, r, "GET", "/merchant/webhooks", "", "")
		q, err := url.ParseQuery(r.Query)
		require.NoError(t, err)
		require.Equal(t, url.Values{
			"startDate": {"2025-06-01T00:00:00Z"}, "endDate": {"2025-06-03T00:00:00Z"}, "responseCode": {"503"},
			"eventType": {"Withdraw Success"}, "page": {[]string{"1", "2"}[i]}, "limit": {"2"},
		}, q)
	}
	require.Len(t, got, 3)
	require.Equal(t, "6650a1b2c3d4e5f607080902", got[1].ID)
	require.Equal(t, 503, got[1].ResponseCode)
	require.False(t, got[1].Delivered())
	require.True(t, got[0].Delivered())
	require.Equal(t, time.Date(2025, 6, 2, 19, 40, 2, 530_000_000, time.UTC), got[1].SentAt.UTC())
	require.Equal(t, "https://acme.example/hooks/coinflow", got[1].URL)
	require.Contains(t, string(got[1].Data), `"signature": "65ATtSdq`)
	require.False(t, got[1].IsPacket(), "the fixture's data is the event's data")
	require.True(t, got[2].IsPacket(), "the spec allows the whole packet")
	require.Equal(t, 0, got[2].ResponseCode)
}

func TestWebhookActivityEmptyAndError(t *testing.T) {
	t.Parallel()
	stub, c := newStub(t, reply{status: 200, body: `[]`})
	for range c.WebhookActivity(t.Context(), coinflow.WebhookActivityParams{}) {
		t.Fatal("no rows")
	}
	q, err := url.ParseQuery(stub.only(t).Query)
	require.NoError(t, err)
	require.Equal(t, url.Values{"page": {"1"}, "limit": {"100"}}, q, "zero params do not filter")

	_, c = newStub(t, reply{status: 200, body: fixture(t, "merchant-webhooks.json")}, reply{status: 500, body: `{"msg":"boom"}`})
	var rows int
	var last error
	for _, err := range c.WebhookActivity(t.Context(), coinflow.WebhookActivityParams{Limit: 2}) {
		if err != nil {
			last = err
			continue
		}
		rows++
	}
	require.Equal(t, 2, rows, "the first page is yielded before the second fails")
	require.Error(t, last)
	require.Equal(t, 3, apiError(t, last).Attempts, "a 5xx is retried")
}

func TestResendWebhook(t *testing.T) {
	t.Parallel()
	stub, c := newStub(t, reply{status: 200, body: fixture(t, "resend-webhook.json")})
	job, err := c.ResendWebhook(t.Context(), "6650a1b2c3d4e5f607080902")
	require.NoError(t, err)
	require.Equal(t, "18421", job)
	requireSent(t, stub.only(t), "POST", "/merchant/webhooks/6650a1b2c3d4e5f607080902", "", "")

	stub, c = newStub(t, reply{status: 200, body: `{"jobId":"job/7"}`})
	job, err = c.ResendWebhook(t.Context(), "a/b")
	require.NoError(t, err)
	require.Equal(t, "job/7", job, "a string job id is kept as is")
	require.Equal(t, "/merchant/webhooks/a%2Fb", stub.only(t).Path, "the id is escaped")

	_, c = newStub(t, reply{status: 404, body: `{"msg":"Webhook not found"}`})
	_, err = c.ResendWebhook(t.Context(), "nope")
	require.ErrorIs(t, err, coinflow.ErrNotFound)

	_, c = newStub(t, reply{status: 200, body: `{}`})
	_, err = c.ResendWebhook(t.Context(), "x")
	require.ErrorIs(t, err, coinflow.ErrMalformedResponse)
}
