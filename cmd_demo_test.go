package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/demo"
)

// TestDemoShowsEveryFindingKind runs `payoutd demo` as a newcomer would: no
// database server, no configuration. Its summary must show every finding
// kind the scripted traffic produces and the onboarding through payoutd's
// API (a German and a Brazilian withdrawer verified on Coinflow's hosted
// page, paid in EUR and BRL), its output must hold none of the identity
// and account numbers the withdrawers sent, and it must stop cleanly.
func TestDemoShowsEveryFindingKind(t *testing.T) {
	var out, logs syncBuffer
	running := runInBackground(t, []string{"payoutd", "demo", "--config", "config.yaml"},
		map[string]string{"PAYOUTD_LISTEN": "127.0.0.1:0"}, &out, &logs)
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "Serving until Ctrl-C.") {
		select {
		case err := <-running.done:
			t.Fatalf("demo stopped early: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("demo printed no summary in 2 minutes:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	summary := out.String()
	for _, kind := range demo.Kinds() {
		require.Contains(t, summary, "  "+kind+" (", "finding kind %s in the summary", kind)
	}
	require.NotContains(t, summary, "expected but not raised")
	// The three lost webhooks are the same ones on any machine, and the
	// run heals each of them.
	require.Regexp(t, `\n  payouts_healed +3\n`, summary)
	require.Contains(t, summary, "409 verification required")

	// Onboarding through payoutd's API.
	require.Regexp(t, `\n  alice +register +US  -> 201 approved\n`, summary)
	require.Regexp(t, `\n  alice +save +bank …\d{4}  -> 201 USD`, summary)
	require.Regexp(t, `\n  alice +save +card …\d{4}  -> 201 USD card\n`, summary)
	for _, p := range []struct{ user, country string }{{"greta", "DE"}, {"joao", "BR"}} {
		require.Regexp(t, `\n  `+p.user+` +register +`+p.country+`  -> 202 pending, verify at http://127\.0\.0\.1:\d+/_sim/kyc/\S+\n`, summary)
		require.Regexp(t, `\n  `+p.user+` +verify .* -> 200 approved`, summary)
		require.Regexp(t, `\n  `+p.user+` +status .* -> 200 approved`, summary)
	}
	require.Regexp(t, `\n  greta +save +iban …\d{4}  -> 422 bic_required`, summary)
	require.Regexp(t, `\n  greta +save +iban\+BIC …\d{4}  -> 201 EUR iban\n`, summary)
	require.Regexp(t, `\n  greta +quote +100\.00 EUR  -> 200 iban: receives 100\.00 EUR, wallet debit \d+\.\d\d USD\n`, summary)
	require.Regexp(t, `\n  joao +save +pix …\d{4}  -> 201 BRL pix\n`, summary)
	require.Regexp(t, `\n  greta +iban +100\.00 EUR  -> 201 pending\n`, summary)
	require.Regexp(t, `\n  joao +pix +500\.00 BRL  -> 201 pending\n`, summary)
	// The summary shows the payouts in each currency.
	require.Regexp(t, `\npayouts by currency:\n  BRL +1 +500\.00 BRL  \(pending 1\)\n  EUR +1 +100\.00 EUR  \(pending 1\)\n  USD `, summary)

	require.Contains(t, summary, "Dashboard: http://127.0.0.1:")
	running.stop(t, 30*time.Second)

	// SSN, date of birth, account numbers, the card token and the PIX key
	// the withdrawers sent appear nowhere: not in what the demo prints, not
	// in payoutd's log.
	secrets := demo.Secrets()
	require.NotEmpty(t, secrets)
	for _, secret := range secrets {
		require.NotContains(t, out.String(), secret, "the demo's output")
		require.NotContains(t, logs.String(), secret, "payoutd's log")
	}
}
