package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

var (
	historyTable = regexp.MustCompile(`(?s)<table class="history stack">.*?</table>`)
	historyRow   = regexp.MustCompile(`(?s)<tr class="(applied|not-applied)">(.*?)</tr>`)
	destRow      = regexp.MustCompile(`(?s)<tr class="(active|deleted)">(.*?)</tr>`)
)

func TestDashboardWithdrawerPage(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)

		// Pending: the hosted verification link, as a link.
		resp := c.Get(t, "/withdrawers/"+dashboardtest.PendingUser)
		require.Equal(t, http.StatusOK, resp.Status)
		body := resp.Body
		require.Contains(t, body, `<span class="badge vs-pending">pending</span>`)
		link := html.EscapeString(dashboardtest.PendingLink)
		require.Contains(t, body, `<a href="`+link+`" id="verification-link" rel="noopener noreferrer" target="_blank">`+link+`</a>`)
		require.Contains(t, body, "u***@example.com", "the masked email")
		require.Contains(t, body, `aria-current="page">Withdrawers</a>`)

		// Approved: the link is gone; the history shows both steps, the
		// country and currency the approval brought; the destinations show
		// their last four, never their token.
		s := e.Fx.Search
		resp = c.Get(t, "/withdrawers/"+dashboardtest.SearchUser)
		require.Equal(t, http.StatusOK, resp.Status)
		body = resp.Body
		require.Contains(t, body, `<span class="badge vs-approved">approved</span>`)
		require.NotContains(t, body, "verification-link")
		require.NotContains(t, body, "verify.coinflow.example")
		rows := historyRow.FindAllStringSubmatch(historyTable.FindString(body), -1)
		require.Len(t, rows, 2, "registered pending, approved by a webhook")
		require.Equal(t, "applied", rows[0][1])
		require.Contains(t, rows[0][2], "src-api")
		require.Contains(t, rows[0][2], ">pending</td>")
		require.Contains(t, rows[1][2], "src-webhook")
		require.Contains(t, rows[1][2], "pending → approved")
		require.Contains(t, rows[1][2], "advanced")
		require.Contains(t, rows[1][2], "<dt>country</dt><dd>none → US</dd>")
		require.Contains(t, rows[1][2], "<dt>currency</dt><dd>none → USD</dd>")
		dests := destRow.FindAllStringSubmatch(body, -1)
		require.Len(t, dests, 2)
		require.Equal(t, "active", dests[0][1])
		require.Contains(t, dests[0][2], "…"+dashboardtest.SearchBankLast4)
		require.Contains(t, dests[0][2], "standard, same day")
		require.Contains(t, dests[0][2], "<code>bank-t…</code>")
		require.Equal(t, "deleted", dests[1][1])
		require.Contains(t, dests[1][2], "…"+dashboardtest.SearchCardLast4)
		require.Contains(t, dests[1][2], "deleted")
		for _, tok := range []string{dashboardtest.SearchBankToken, dashboardtest.SearchCardToken, "tok-secret"} {
			require.NotContains(t, body, tok, "a destination token is never shown whole")
		}
		require.Equal(t, []string{s.ID}, matches(payoutRow, body))
		require.Contains(t, body, "98,765.43 USD")
		require.Contains(t, body, `href="/payouts?user_id=`+dashboardtest.SearchUser+`" id="all-payouts"`)

		// Paid in EUR: the amount, and what it cost the USD wallet at which rate.
		resp = c.Get(t, "/withdrawers/"+dashboardtest.ForeignUser)
		require.Equal(t, http.StatusOK, resp.Status)
		body = resp.Body
		require.Len(t, matches(payoutRow, body), 1)
		require.Contains(t, body, "4,200.00 EUR")
		require.Contains(t, body, `<td class="num nowrap" data-label="Wallet debit">4,571.00 USD<br><span class="muted">rate 1.0864</span></td>`)
		require.Contains(t, body, "<dt>Payout currency</dt><dd>EUR</dd>")
		require.Contains(t, body, "<dt>Country</dt><dd>DE</dd>")

		// Blocked by a reconciliation: the sync time and the change.
		resp = c.Get(t, "/withdrawers/"+dashboardtest.BlockedUser)
		require.Equal(t, http.StatusOK, resp.Status)
		body = resp.Body
		require.Contains(t, body, `id="withdrawer-blocked">blocked</span>`)
		require.NotContains(t, body, "<dt>Last synced</dt><dd>never</dd>")
		rows = historyRow.FindAllStringSubmatch(historyTable.FindString(body), -1)
		require.Len(t, rows, 2)
		require.Contains(t, rows[1][2], "src-reconcile")
		require.Contains(t, rows[1][2], "fields changed")
		require.Contains(t, rows[1][2], "<dt>blocked</dt><dd>false → true</dd>")
		want := newestPayouts(e.Fx, func(p *models.Payout) bool { return p.UserID == dashboardtest.BlockedUser })
		require.Greater(t, len(want), 1)
		require.Equal(t, want, matches(payoutRow, body), "the user's payouts, newest first")
		require.NotContains(t, body, "acct-secret")

		// The payout page leads to its withdrawer.
		resp = c.Get(t, "/payouts/"+s.ID)
		require.Contains(t, resp.Body, `<a href="/withdrawers/`+dashboardtest.SearchUser+`" id="payout-user">`)

		for _, id := range []string{"nobody", "user-4", url.PathEscape("a b")} {
			resp = c.Get(t, "/withdrawers/"+id)
			require.Equal(t, http.StatusNotFound, resp.Status, id)
			require.Contains(t, resp.Body, "There is no withdrawer with that id.")
		}
	})
}

func TestDashboardWithdrawersList(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		newestFirst := func(keep func(w *models.Withdrawer) bool) []string {
			var ids []string
			for i := len(e.Fx.Withdrawers) - 1; i >= 0; i-- { // seeded oldest first
				if w := e.Fx.Withdrawers[i]; keep(w) {
					ids = append(ids, w.UserID)
				}
			}
			return ids
		}
		require.True(t, slices.IsSortedFunc(e.Fx.Withdrawers, func(a, b *models.Withdrawer) int { return a.CreatedAt.Compare(b.CreatedAt) }))
		cases := []struct {
			query string
			keep  func(w *models.Withdrawer) bool
		}{
			{"", func(*models.Withdrawer) bool { return true }},
			{"status=pending", func(w *models.Withdrawer) bool { return w.VerificationStatus == models.VerificationPending }},
			{"status=approved", func(w *models.Withdrawer) bool { return w.VerificationStatus == models.VerificationApproved }},
			{"status=rejected", func(w *models.Withdrawer) bool { return w.VerificationStatus == models.VerificationRejected }},
			{"blocked=yes", func(w *models.Withdrawer) bool { return w.Blocked }},
			{"blocked=no&status=approved", func(w *models.Withdrawer) bool {
				return !w.Blocked && w.VerificationStatus == models.VerificationApproved
			}},
			{"status=expired", func(*models.Withdrawer) bool { return false }},
		}
		for _, tc := range cases {
			getList(t, c, "/withdrawers", tc.query, withdrawerRow, newestFirst(tc.keep), "No withdrawers match.")
		}
		require.Equal(t, []string{dashboardtest.PendingUser}, newestFirst(func(w *models.Withdrawer) bool {
			return w.VerificationStatus == models.VerificationPending
		}), "the seed has one pending withdrawer")

		resp := c.Get(t, "/withdrawers?status=pending")
		require.Contains(t, resp.Body, `<span class="badge vs-pending">pending</span>`)
		require.NotContains(t, resp.Body, "verify.coinflow.example", "links are on the withdrawer's page only")
		require.NotContains(t, resp.Body, "wallet-", "the list shows no wallets")

		for _, bad := range []string{"status=gone", "blocked=maybe", "cursor=not-a-cursor"} {
			resp := c.Get(t, "/withdrawers?"+bad)
			require.Equal(t, http.StatusBadRequest, resp.Status, bad)
			require.NotContains(t, resp.Body, "data-withdrawer-id", bad)
		}

		// A user id goes straight to the withdrawer's page.
		resp = c.Get(t, "/withdrawers?user_id=+"+url.QueryEscape("user 3/x")+"+&status=pending")
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Equal(t, "/withdrawers/user%203%2Fx", resp.Header.Get("Location"))
	})
}

// TestDashboardWithdrawerEscapes: what Coinflow or a user put in a
// withdrawer's record is shown as text wherever it appears, and a hosted
// link that is not http(s) is no link.
func TestDashboardWithdrawerEscapes(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		user := `u<b>"'&?#x`
		no := false
		dashboardtest.ApplyVerification(t, store, decide.Verification{
			Source: models.SourceAPI, UserID: user, Wallet: "w", Blockchain: "user",
			EmailMasked: `<img src=x onerror=alert(1)>***@example.com`, Status: models.VerificationPending, At: clock.Now(),
			Blocked: &no, Country: "<s>DE", Currency: `"><script>alert(1)</script>`, Link: "javascript:alert(1)",
		})
		clock.Advance(time.Minute)
		dashboardtest.ApplyVerification(t, store, decide.Verification{
			Source: models.SourceWebhook, UserID: user, Status: models.VerificationPending, At: clock.Now(), Country: "<q>FR</q>",
		})
		require.NoError(t, store.DestinationSave(ctx, &models.Destination{
			Token: `<script>alert('tok')</script>-secret`, UserID: user, Kind: "<b>card</b>", Currency: "<i>X</i>",
			Last4: "<u>1</u>", Speeds: "<em>asap</em>,same_day",
		}))
		p := &models.Payout{
			UserID: user, Amount: models.Money{Cents: 100, Currency: "USD"}, Status: models.StatusPending, Source: models.OriginAPI,
			ExchangeRate: ptr(`<sup>1.1</sup>`), WalletDebitCents: ptr(int64(110)),
		}
		require.NoError(t, store.PayoutCreate(ctx, p, models.SourceAPI, nil))
		u, _ := serve(t, store, clock, dashboard.Deps{Tokens: tokens})
		c := dashboardtest.Login(t, u, token)

		page := c.Get(t, "/withdrawers/"+url.PathEscape(user))
		require.Equal(t, http.StatusOK, page.Status)
		list := c.Get(t, "/withdrawers")
		require.Equal(t, []string{html.EscapeString(user)}, matches(withdrawerRow, list.Body))
		payout := c.Get(t, "/payouts/"+p.ID)
		for name, body := range map[string]string{"page": page.Body, "list": list.Body, "payout": payout.Body} {
			for _, raw := range []string{
				"<b>", "<img", "<script>alert", "<s>", "<i>", "<u>", "<em>", "<q>", "<sup>", `href="javascript:`, "tok')",
			} {
				require.NotContains(t, body, raw, name)
			}
		}
		require.Contains(t, page.Body, "u&lt;b&gt;&#34;&#39;&amp;?#x")
		require.Contains(t, page.Body, "&lt;img src=x onerror=alert(1)&gt;***@example.com")
		require.Contains(t, page.Body, `<a href="#ZgotmplZ" id="verification-link"`)
		require.Contains(t, page.Body, "<dt>country</dt><dd>&lt;s&gt;DE → &lt;q&gt;FR&lt;/q&gt;</dd>")
		require.Contains(t, page.Body, "<code>&lt;scrip…</code>")
		require.Contains(t, page.Body, "…&lt;u&gt;1&lt;/u&gt;")
		require.Contains(t, page.Body, "rate &lt;sup&gt;1.1&lt;/sup&gt;")

		// The links to the withdrawer's page lead there.
		href := regexp.MustCompile(`<a href="(/withdrawers/[^"]+)" id="payout-user">`).FindStringSubmatch(payout.Body)
		require.NotNil(t, href)
		require.Equal(t, http.StatusOK, c.Get(t, html.UnescapeString(href[1])).Status, href[1])
		href = regexp.MustCompile(`<td data-label="User"><a href="([^"]+)">`).FindStringSubmatch(list.Body)
		require.NotNil(t, href)
		require.Equal(t, http.StatusOK, c.Get(t, html.UnescapeString(href[1])).Status, href[1])
	})
}

func ptr[T any](v T) *T { return &v }
