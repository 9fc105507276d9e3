package reconcile

import (
	"context"
	"time"

	"github.com/payoutd/payoutd/models"
)

// headerAuthSubject is the subject of the one webhook_header_auth finding.
const headerAuthSubject = "webhooks:authorization"

// headerAuthWindow is how long a delivery authenticated by the
// Authorization header alone keeps webhook_header_auth raised.
const headerAuthWindow = 24 * time.Hour

// checkHeaderAuth raises one webhook_header_auth finding (warning) while any
// delivery stored in the last day was authenticated by the Authorization
// header alone: such a delivery puts the webhook key itself on the wire,
// where a signature would not. A run that sees none for a day resolves it.
// It reads only payoutd's own store, so it is complete even when Coinflow
// does not answer.
func (r *Reconciler) checkHeaderAuth(ctx context.Context, st *runState) {
	n, last, err := r.store.InboxAuthSince(ctx, models.AuthAuthorization, st.now.Add(-headerAuthWindow))
	if err != nil {
		st.problem("webhook_header_auth", err, true)
		return
	}
	if n > 0 {
		err = r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindWebhookHeaderAuth, Subject: headerAuthSubject, Severity: models.SeverityWarning,
			Details: models.Details{
				"count_last_day": n, "last_seen": last.UTC(),
				"hint": "webhooks arrived without a Coinflow-Signature and were accepted on the Authorization header alone, " +
					"which carries the webhook key itself: find what strips the signature or who sends them, and consider rotating the key",
			},
		})
		if err != nil {
			st.problem("webhook_header_auth", err, true)
			return
		}
	}
	resolved, err := r.store.FindingResolveUnseen(ctx, models.KindWebhookHeaderAuth, st.run.ID, "")
	r.resolved(st, resolved, err, "webhook_header_auth")
}
