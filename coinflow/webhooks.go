package coinflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// WebhookDisplay is one row of Coinflow's webhook activity log (GET
// /merchant/webhooks): one attempt to deliver an event to the merchant's
// endpoint.
type WebhookDisplay struct {
	ID         string `json:"id"`
	MerchantID string `json:"merchantId"`
	EventType  string `json:"eventType"`
	Category   string `json:"category"`
	Version    string `json:"version"`
	// Data is the event's WebhookData or, the spec allows, the whole
	// WebhookPacket (eventType, category, created, data): IsPacket tells.
	Data   json.RawMessage `json:"data"`
	SentAt time.Time       `json:"sentAt"`
	URL    string          `json:"url"`
	// ResponseCode is the HTTP status the endpoint answered; 0 when it did
	// not answer (timeout, refused connection) [ASSUMED].
	ResponseCode int `json:"responseCode"`
}

// Delivered reports whether the attempt succeeded: Coinflow stops retrying
// only on exactly 200 (README 8.6).
func (d WebhookDisplay) Delivered() bool { return d.ResponseCode == 200 }

// WebhookActivityParams select rows of the webhook activity. Zero fields do
// not filter.
type WebhookActivityParams struct {
	Since, Until  time.Time // startDate / endDate, on sentAt (inclusive)
	ResponseCode  string    // an HTTP status as text, e.g. "503"
	EventType     string
	TransactionID string
	// Limit is the page size (default 100).
	Limit int
}

func (p WebhookActivityParams) query(page int) url.Values {
	q := url.Values{}
	if !p.Since.IsZero() {
		q.Set("startDate", p.Since.UTC().Format(time.RFC3339Nano))
	}
	if !p.Until.IsZero() {
		q.Set("endDate", p.Until.UTC().Format(time.RFC3339Nano))
	}
	if p.ResponseCode != "" {
		q.Set("responseCode", p.ResponseCode)
	}
	if p.EventType != "" {
		q.Set("eventType", p.EventType)
	}
	if p.TransactionID != "" {
		q.Set("transactionId", p.TransactionID)
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("limit", strconv.Itoa(orDefault(p.Limit, DefaultPageLimit)))
	return q
}

// WebhookActivityPage fetches one page (1-based, [ASSUMED] as for
// withdraws) of GET /merchant/webhooks. Coinflow answers a bare array with
// no total.
func (c *Client) WebhookActivityPage(ctx context.Context, p WebhookActivityParams, page int) ([]WebhookDisplay, error) {
	var ds []WebhookDisplay
	err := c.do(ctx, request{op: opWebhookActivity, method: "GET", path: "/merchant/webhooks", query: p.query(page)}, &ds)
	return ds, err
}

// WebhookActivity streams every row of the webhook activity matching p,
// page by page with the paging rule of withdraws (pages). The sequence ends
// after the first error, which it yields with a zero row.
func (c *Client) WebhookActivity(ctx context.Context, p WebhookActivityParams) iter.Seq2[WebhookDisplay, error] {
	return items(pages(ctx, 0, func(ctx context.Context, page int) ([]WebhookDisplay, error) {
		return c.WebhookActivityPage(ctx, p, page)
	}))
}

// ResendWebhook asks Coinflow to deliver again the event of activity row id
// (POST /merchant/webhooks/{webhookLogId}) and returns the job id of the
// queued delivery (a number or a string in Coinflow's answer, as text).
// ErrNotFound when Coinflow does not know the row. A retried call may queue
// two deliveries: harmless, as payoutd stores an event once.
func (c *Client) ResendWebhook(ctx context.Context, id string) (string, error) {
	var out struct {
		JobID json.RawMessage `json:"jobId"`
	}
	if err := c.do(ctx, request{op: opResendWebhook, method: "POST", path: "/merchant/webhooks/" + url.PathEscape(id)}, &out); err != nil {
		return "", err
	}
	raw := bytes.TrimSpace(out.JobID)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", &APIError{Op: "resend webhook", StatusCode: 200, Err: fmt.Errorf("%w: jobId is %s", ErrMalformedResponse, raw)}
	}
	return n.String(), nil
}

// IsPacket reports whether Data is the whole WebhookPacket rather than its
// data member: it then has its own eventType and data.
func (d WebhookDisplay) IsPacket() bool {
	var probe struct {
		EventType *string         `json:"eventType"`
		Data      json.RawMessage `json:"data"`
	}
	return json.Unmarshal(d.Data, &probe) == nil && probe.EventType != nil && len(probe.Data) > 0
}
