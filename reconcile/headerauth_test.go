package reconcile_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

const headerAuthSubject = "webhooks:authorization"

// untracked is an authentic event of a type payoutd only stores and counts,
// so that it changes nothing but the inbox.
func untracked(n int) []byte {
	return fmt.Appendf(nil, `{"eventType":"Settled","category":"Purchase","created":"2025-06-02T14:00:00.000Z","data":{"id":"header-auth-%d"}}`, n)
}

// TestHeaderOnlyDeliveriesRaiseWebhookHeaderAuth: a delivery authenticated
// by the Authorization header alone raises one webhook_header_auth warning,
// which follows the last day's count and resolves on the first run that
// sees none for a day; signed deliveries never raise it.
func TestHeaderOnlyDeliveriesRaiseWebhookHeaderAuth(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		n := 0
		byHeader := func() time.Time {
			t.Helper()
			n++
			code, body := b.srv.PostWebhook(t, untracked(n), map[string]string{"Authorization": testserver.WebhookKey})
			require.Equal(t, http.StatusOK, code, body)
			return b.clock.Now()
		}
		signed := func() {
			t.Helper()
			n++
			code, body := b.srv.PostSigned(t, untracked(n))
			require.Equal(t, http.StatusOK, code, body)
		}
		open := func(count int64, last time.Time) models.Finding {
			t.Helper()
			f := b.requireOpen(t, key{models.KindWebhookHeaderAuth, headerAuthSubject, models.SeverityWarning})[string(models.KindWebhookHeaderAuth)+" "+headerAuthSubject]
			requireDetails(t, models.Details{"count_last_day": count, "last_seen": last}, models.Finding{Details: models.Details{
				"count_last_day": f.Details["count_last_day"], "last_seen": f.Details["last_seen"],
			}})
			return f
		}

		signed()
		b.srv.Drain(t)
		b.runOK(t)
		b.requireOpen(t) // signed deliveries are what payoutd wants

		first := byHeader()
		signed()
		b.srv.Drain(t)
		run := b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["findings_opened"])
		f := open(1, first)
		require.Nil(t, f.PayoutID)

		b.tick(12 * time.Hour)
		second := byHeader()
		b.runOK(t)
		open(2, second)

		b.tick(13 * time.Hour) // the first is now more than a day old
		run = b.runOK(t)
		require.Zero(t, counts(t, run)["findings_opened"], "still the one finding")
		open(1, second)

		b.tick(10*time.Hour + 59*time.Minute) // a minute short of a day after the second
		b.runOK(t)
		open(1, second)

		b.tick(2 * time.Minute)
		signed()
		run = b.runOK(t)
		b.requireOpen(t)
		b.requireResolved(t, run, models.KindWebhookHeaderAuth, headerAuthSubject)
		require.Equal(t, int64(1), counts(t, run)["findings_resolved"])

		// A new header-only delivery opens a new finding.
		byHeader()
		run = b.runOK(t)
		require.Equal(t, int64(1), counts(t, run)["findings_opened"])
		require.Len(t, b.findings(t, models.KindWebhookHeaderAuth, headerAuthSubject), 2)
	})
}
