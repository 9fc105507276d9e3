// Package alert tells people about findings: when one opens, while it stays
// open past the re-notify interval, and when it resolves.
//
// It works in two steps joined by a durable outbox, so that an alert
// survives a restart and a receiver's outage:
//
//   - Notifier.Sweep looks at the findings table (whoever raised them: the
//     reconciler or the webhook applier) and, in one transaction, claims the
//     findings to announce in alert_notices and writes one outbox row per
//     alert and sink. It reads only the findings opened, acknowledged or
//     resolved since its last sweep (models.FindingMark), and those due to
//     be announced again. A finding is announced once when it opens, again only
//     after the re-notify interval while it stays open (not acknowledged),
//     and once when it resolves. When more findings open in one sweep than
//     the summary threshold, each sink gets one summary alert instead.
//   - Dispatcher.DispatchOnce delivers due outbox rows, at least once, with
//     exponential backoff between attempts. It only ever calls the URLs it
//     was configured with, follows no redirects, and bounds every call with
//     a timeout. A row naming a sink that is not configured is refused.
//
// # Sinks
//
// The log sink is always on and receives every alert as one log line (ids,
// kind, subject, severity; never details or secrets). The others are on
// when configured:
//
//   - slack: a Slack incoming webhook, {"text": ..., "blocks": [...]}.
//   - webhook: a generic JSON webhook receiving the Alert below.
//   - pagerduty: PagerDuty Events API v2: trigger when a finding opens,
//     resolve when it resolves, dedup_key the finding id. A summary triggers
//     an incident of its own (dedup_key the summary's id) that is resolved in
//     PagerDuty by hand; findings' resolutions are always sent one by one.
//
// # Generic webhook body
//
// POSTed as application/json with the header X-Payoutd-Alert-Id (the
// alert's id; a retried delivery carries the same id, so receivers can drop
// duplicates). Any 2xx answer is success; anything else, including a
// redirect, is retried.
//
// # Signed webhooks
//
// Deliveries follow the Standard Webhooks scheme (standardwebhooks.com):
// webhook-id is the alert's id (the same on every retry of one alert),
// webhook-timestamp the attempt's Unix time in seconds, and, when
// alerts.webhook_secret is set, webhook-signature is "v1," and the base64
// of HMAC-SHA256 over webhook-id + "." + webhook-timestamp + "." + the raw
// body, keyed with the base64-decoded part of the secret after "whsec_".
// Without a secret deliveries are unsigned, and serve warns once at start.
//
// A receiver verifies before parsing: read the raw body; refuse a timestamp
// more than a few minutes from its own clock (a replay); compute the
// signature as above with the shared secret; accept when it equals, in
// constant time, one of the space-separated "v1,…" entries of
// webhook-signature; drop a webhook-id already seen. The Standard Webhooks
// libraries do exactly this given the same "whsec_…" secret.
//
//	{
//	  "version": 1,
//	  "id": "opened:0190...:1",              // stable across retries and sinks
//	  "type": "finding.opened",              // or "finding.resolved", "findings.summary"
//	  "renotification": false,               // true when re-announcing a finding still open
//	  "notification": 1,                     // how many times this finding has been announced
//	  "created_at": "2025-01-02T03:04:05Z",
//	  "finding": {                           // absent in a summary
//	    "id": "0190...", "kind": "stuck_payout", "subject": "<payout id>",
//	    "severity": "error", "status": "open",
//	    "payout_id": "...", "user_id": null, "details": {...},
//	    "first_seen_at": "...", "last_seen_at": "...", "resolved_at": null
//	  },
//	  "summary": {                           // only in a summary
//	    "opened": {"count": 37, "renotified": 0, "by_severity": {"error": 30, "warning": 7},
//	               "by_kind": {"stuck_payout": 30, "speed_mismatch": 7}, "finding_ids": ["..."]},
//	    "resolved": {...}                    // present when resolutions were summarised too
//	  },
//	  "dashboard_url": "https://payoutd.example.com/#finding-0190..."
//	}
package alert
