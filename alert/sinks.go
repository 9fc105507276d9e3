package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sirupsen/logrus"
)

// sink delivers one alert somewhere.
type sink interface {
	deliver(ctx context.Context, a *Alert) error
}

// deliveryError is a failed delivery, in words safe to log and store: no
// URL, no key.
type deliveryError struct {
	msg        string
	retryAfter time.Duration // the receiver's Retry-After, if it sent one
}

func (e *deliveryError) Error() string { return e.msg }

// logSink writes every alert as one log line: ids, kind, subject and
// severity, never details (they may hold what only the dashboard should
// show).
type logSink struct{ log *logrus.Entry }

func (s logSink) deliver(_ context.Context, a *Alert) error {
	e := s.log.WithFields(logrus.Fields{"alert_id": a.ID, "alert_type": a.Type})
	if f := a.Finding; f != nil {
		e = e.WithFields(logrus.Fields{
			"finding_id": f.ID, "finding_kind": f.Kind, "subject": f.Subject, "severity": f.Severity,
			"finding_status": f.Status,
		})
		if f.PayoutID != nil {
			e = e.WithField("payout_id", *f.PayoutID)
		}
		if a.Notification > 0 {
			e = e.WithField("notification", a.Notification)
		}
	}
	if sm := a.Summary; sm != nil {
		for name, g := range map[string]*Group{"opened": sm.Opened, "resolved": sm.Resolved} {
			if g != nil {
				e = e.WithFields(logrus.Fields{
					name: g.Count, name + "_by_severity": counts(g.BySeverity), name + "_by_kind": counts(g.ByKind),
					name + "_finding_ids": g.FindingIDs,
				})
			}
		}
	}
	switch {
	case a.Type == TypeResolved:
		e.Info("finding resolved")
	case a.Type == TypeSummary:
		e.Warn("findings summary")
	case a.Renotification:
		e.Warn("finding still open")
	default:
		e.Warn("finding opened")
	}
	return nil
}

// poster makes the HTTP calls of the sinks through the dispatcher's
// guarded client, and words failures without secrets.
type poster struct {
	client *http.Client
	redact func(string) string
}

func (p *poster) post(ctx context.Context, target string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return &deliveryError{msg: "build request: invalid URL"} // the error would quote the URL
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "payoutd-alert/1")
	resp, err := p.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which is a secret for Slack and webhooks.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return &deliveryError{msg: "post: " + p.redact(err.Error())}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := "status " + strconv.Itoa(resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (redirects are not followed)"
	}
	if s := printable(snippet); s != "" {
		msg += ": " + p.redact(s)
	}
	de := &deliveryError{msg: msg}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		de.retryAfter = time.Duration(secs) * time.Second
	}
	return de
}

// printable keeps a receiver's error body to one short line of text.
func printable(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(b))
	return strings.TrimSpace(s)
}

// webhookSink POSTs the Alert as documented in the package comment, signed
// with the Standard Webhooks scheme when it has a key.
type webhookSink struct {
	url string
	p   *poster
	key []byte           // the decoded alerts.webhook_secret; nil sends unsigned
	now func() time.Time // the dispatcher's clock, for webhook-timestamp
}

func (s webhookSink) deliver(ctx context.Context, a *Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return &deliveryError{msg: "encode alert: " + err.Error()}
	}
	// webhook-id is the alert's id, so every retry of one alert carries the
	// same id; the timestamp is each attempt's, and the signature covers it.
	ts := strconv.FormatInt(s.now().Unix(), 10)
	h := http.Header{"X-Payoutd-Alert-Id": {a.ID}, "Webhook-Id": {a.ID}, "Webhook-Timestamp": {ts}}
	if s.key != nil {
		h.Set("Webhook-Signature", signStandardWebhook(s.key, a.ID, ts, b))
	}
	return s.p.post(ctx, s.url, b, h)
}

// signStandardWebhook is the Standard Webhooks signature of one delivery:
// "v1," and the base64 of HMAC-SHA256 under key over id.timestamp.body.
func signStandardWebhook(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// webhookKey decodes a Standard Webhooks secret, "whsec_" and the base64 of
// the key. Its errors never quote the secret.
func webhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`webhook secret: must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, errors.New(`webhook secret: must be "whsec_" and standard base64`)
	}
	return key, nil
}

// slackSink posts to a Slack incoming webhook.
type slackSink struct {
	url string
	p   *poster
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func (s slackSink) deliver(ctx context.Context, a *Alert) error {
	title, lines := describe(a)
	text := "*" + slackEscaper.Replace(title) + "*"
	for _, l := range lines {
		text += "\n" + slackEscaper.Replace(l)
	}
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}}
	if a.DashboardURL != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []any{
			map[string]any{"type": "mrkdwn", "text": "<" + slackEscaper.Replace(a.DashboardURL) + "|Open in the payoutd dashboard>"},
		}})
	}
	b, err := json.Marshal(map[string]any{"text": title, "blocks": blocks})
	if err != nil {
		return &deliveryError{msg: "encode slack message: " + err.Error()}
	}
	return s.p.post(ctx, s.url, b, nil)
}

// pagerDutySink sends PagerDuty Events API v2 events: a finding's opening
// triggers, its resolution resolves, both with the finding id as dedup_key.
type pagerDutySink struct {
	url, routingKey string
	p               *poster
}

func (s pagerDutySink) deliver(ctx context.Context, a *Alert) error {
	ev := map[string]any{"routing_key": s.routingKey}
	switch {
	case a.Type == TypeResolved && a.Finding != nil:
		ev["event_action"], ev["dedup_key"] = "resolve", a.Finding.ID
	case a.Finding != nil:
		ev["event_action"], ev["dedup_key"] = "trigger", a.Finding.ID
		ev["payload"] = pagerDutyPayload(a, a.Finding.Severity, a.Finding.Kind, a.Finding)
	case a.Summary != nil:
		sev := summarySeverity(a.Summary)
		ev["event_action"], ev["dedup_key"] = "trigger", a.ID
		ev["payload"] = pagerDutyPayload(a, sev, "summary", a.Summary)
	default:
		return &deliveryError{msg: "alert " + a.ID + " has neither finding nor summary"}
	}
	if a.DashboardURL != "" && ev["event_action"] == "trigger" {
		ev["links"] = []any{map[string]any{"href": a.DashboardURL, "text": "payoutd dashboard"}}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return &deliveryError{msg: "encode pagerduty event: " + err.Error()}
	}
	return s.p.post(ctx, s.url, b, nil)
}

func pagerDutyPayload(a *Alert, severity, class string, details any) map[string]any {
	title, _ := describe(a)
	if len(title) > 1024 { // PagerDuty's limit on summary
		title = title[:1021] + "..."
	}
	switch severity {
	case "error", "warning", "info":
	default:
		severity = "error"
	}
	return map[string]any{
		"summary": title, "source": "payoutd", "severity": severity, "component": "reconciliation",
		"group": "payouts", "class": class, "timestamp": a.CreatedAt.UTC().Format(time.RFC3339),
		"custom_details": details,
	}
}

// summarySeverity is the most severe severity among the findings a summary
// stands for.
func summarySeverity(s *Summary) string {
	worst := "info"
	rank := map[string]int{"info": 0, "warning": 1, "error": 2}
	for _, g := range []*Group{s.Opened, s.Resolved} {
		if g != nil && rank[g.worstSeverity()] > rank[worst] {
			worst = g.worstSeverity()
		}
	}
	return worst
}

// describe words an alert for people: a headline and a few lines.
func describe(a *Alert) (string, []string) {
	if f := a.Finding; f != nil {
		var title string
		switch {
		case a.Type == TypeResolved:
			title = fmt.Sprintf("payoutd: %s resolved (%s) for %s", f.Kind, f.Severity, f.Subject)
		case a.Renotification:
			title = fmt.Sprintf("payoutd: %s still open (%s) for %s", f.Kind, f.Severity, f.Subject)
		default:
			title = fmt.Sprintf("payoutd: %s opened (%s) for %s", f.Kind, f.Severity, f.Subject)
		}
		lines := []string{"Finding " + f.ID + ", first seen " + f.FirstSeenAt.UTC().Format(time.RFC3339)}
		if f.PayoutID != nil {
			lines = append(lines, "Payout "+*f.PayoutID)
		}
		if a.Renotification {
			lines = append(lines, fmt.Sprintf("Announced %d times; acknowledge it to stop reminders", a.Notification))
		}
		return title, lines
	}
	var parts, lines []string
	if s := a.Summary; s != nil {
		if g := s.Opened; g != nil {
			parts = append(parts, fmt.Sprintf("%d findings open (%s)", g.Count, counts(g.BySeverity)))
			lines = append(lines, "Open by kind: "+counts(g.ByKind))
			if g.Renotified > 0 {
				lines = append(lines, fmt.Sprintf("%d of them were announced before and are still open", g.Renotified))
			}
		}
		if g := s.Resolved; g != nil {
			parts = append(parts, fmt.Sprintf("%d findings resolved", g.Count))
			lines = append(lines, "Resolved by kind: "+counts(g.ByKind))
		}
	}
	return "payoutd: " + strings.Join(parts, "; "), lines
}
