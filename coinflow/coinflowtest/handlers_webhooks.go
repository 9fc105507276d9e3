package coinflowtest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// webhookDisplayJSON is WebhookDisplay. data is the inner event data, as in
// the fixture, or the whole envelope (the spec allows it) after
// SetWebhookLogPackets.
type webhookDisplayJSON struct {
	ID           string          `json:"id"`
	MerchantID   string          `json:"merchantId"`
	EventType    string          `json:"eventType"`
	Category     string          `json:"category"`
	Version      string          `json:"version"`
	Data         json.RawMessage `json:"data"`
	SentAt       string          `json:"sentAt"`
	URL          string          `json:"url"`
	ResponseCode int             `json:"responseCode"`
}

// handleListWebhooks is GET /merchant/webhooks: one row per delivery
// attempt, oldest first, paged like the withdraws list. Filters: eventType,
// responseCode (and search, read as a responseCode), transactionId (a
// Withdraw event's data.signature), startDate/endDate (inclusive, on
// sentAt), merchantId.
//
// [ASSUMED] (README 5.12 and 9 say "log each attempt as a WebhookDisplay"
// but not what a row of a retried delivery looks like): every attempt is
// its own row with its own id, sentAt (emulator clock) and the status the
// endpoint answered, 0 when it gave none (timeout, refused connection, a
// WebhookFaults.FailNext attempt); a resend's attempts are new rows. Any
// row's id resends its event.
func (e *Emulator) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, msg := e.parsePage(q)
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	win, msg := parseWindow(q, "startDate", "endDate")
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	code := -1
	for _, k := range []string{"responseCode", "search"} {
		if v := first(q, k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				writeMsg(w, http.StatusBadRequest, k+" must be an HTTP status code")
				return
			}
			code = n
		}
	}
	eventType, txn := first(q, "eventType"), first(q, "transactionId")
	out := []webhookDisplayJSON{}
	if m := first(q, "merchantId"); m != "" && m != e.opts.MerchantID && m != e.opts.MerchantObjectID {
		writeJSON(w, http.StatusOK, out)
		return
	}

	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	skip := page.offset()
	for _, le := range h.log {
		if (eventType != "" && le.ev.eventType != eventType) ||
			(code >= 0 && le.responseCode != code) ||
			(txn != "" && le.ev.transaction != txn) ||
			!win.contains(le.sentAt) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		data := le.ev.data
		if h.logPackets {
			data = le.ev.body
		}
		out = append(out, webhookDisplayJSON{
			ID: le.id, MerchantID: e.opts.MerchantID, EventType: le.ev.eventType,
			Category: le.ev.category, Version: "Version 2", Data: data,
			SentAt: isoMillis(le.sentAt), URL: le.url, ResponseCode: le.responseCode,
		})
		if len(out) == page.limit {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type resendJSON struct {
	JobID int `json:"jobId"`
}

// handleResendWebhook is POST /merchant/webhooks/{webhookLogId}: queues a
// new delivery of that attempt's event (re-signed when sent).
func (e *Emulator) handleResendWebhook(w http.ResponseWriter, r *http.Request) {
	job, ok := e.hooks.resend(r.PathValue("webhookLogId"))
	if !ok {
		writeMsg(w, http.StatusNotFound, "Webhook not found")
		return
	}
	writeJSON(w, http.StatusOK, resendJSON{JobID: job})
}
