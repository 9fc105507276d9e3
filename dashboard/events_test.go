package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
)

var eventRow = regexp.MustCompile(`data-event-id="([^"]+)"`)

// eachEventDB is eachDB with the events of dashboardtest.SeedEvents.
func eachEventDB(t *testing.T, fn func(t *testing.T, e *env, ev *dashboardtest.Events)) {
	t.Helper()
	eachDB(t, func(t *testing.T, e *env) {
		fn(t, e, dashboardtest.SeedEvents(t, e.Store, e.Clock, e.Fx))
	})
}

func ids(evs []models.InboxEvent, keep func(e models.InboxEvent) bool) []string {
	var out []string
	for _, e := range evs {
		if keep(e) {
			out = append(out, strconv.FormatInt(e.ID, 10))
		}
	}
	return out
}

func eventPath(e *models.InboxEvent) string { return "/events/" + strconv.FormatInt(e.ID, 10) }

// requireMasked fails if a page shows any secret or PII of the seeded
// bodies.
func requireMasked(t *testing.T, page, where string) {
	t.Helper()
	for _, s := range []string{
		dashboardtest.EventEmail, dashboardtest.EventSSN, dashboardtest.EventAccountNumber, dashboardtest.EventCardToken, "19900101",
		html.EscapeString(dashboardtest.EventEmail),
	} {
		require.NotContains(t, page, s, where)
	}
}

func TestDashboardEventLog(t *testing.T) {
	t.Parallel()
	eachEventDB(t, func(t *testing.T, e *env, ev *dashboardtest.Events) {
		c := dashboardtest.Login(t, e.URL, token)
		all := ids(ev.All, func(models.InboxEvent) bool { return true })
		require.Len(t, all, dashboardtest.EventsSeeded)

		// Newest first, a page of 50, then the rest through the pager link.
		resp := c.Get(t, "/events")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, resp.Body, `aria-current="page">Events</a>`)
		require.Equal(t, all[:50], matches(eventRow, resp.Body))
		requireMasked(t, resp.Body, "the list")
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(resp.Body)
		require.NotNil(t, next)
		resp = c.Get(t, html.UnescapeString(next[1]))
		require.Equal(t, http.StatusOK, resp.Status)
		require.Equal(t, all[50:], matches(eventRow, resp.Body))
		require.NotContains(t, resp.Body, `rel="next"`)

		// Every filter, alone and together.
		from := ev.All[40].ReceivedAt
		for _, f := range []struct {
			q    url.Values
			keep func(e models.InboxEvent) bool
		}{
			{url.Values{"state": {"parked"}}, func(e models.InboxEvent) bool { return e.Status == models.InboxParked }},
			{url.Values{"state": {"ignored"}}, func(e models.InboxEvent) bool { return e.Status == models.InboxIgnored }},
			{url.Values{"event_type": {"KYC Success"}}, func(e models.InboxEvent) bool { return e.EventType == "KYC Success" }},
			{url.Values{"transaction": {"sig-002"}}, func(e models.InboxEvent) bool { return models.Deref(e.SubjectTransaction) == "sig-002" }},
			{url.Values{"user_id": {dashboardtest.SearchUser}}, func(e models.InboxEvent) bool { return models.Deref(e.SubjectUserID) == dashboardtest.SearchUser }},
			{url.Values{"auth": {"authorization"}, "state": {"applied"}}, func(e models.InboxEvent) bool {
				return models.Deref(e.AuthMethod) == models.AuthAuthorization && e.Status == models.InboxApplied
			}},
			{url.Values{"from": {from.Format("2006-01-02T15:04")}, "to": {e.Fx.End.Format("2006-01-02")}}, func(e models.InboxEvent) bool {
				return !e.ReceivedAt.Before(from.Truncate(60e9))
			}},
		} {
			want := ids(ev.All, f.keep)
			require.NotEmpty(t, want, "%v", f.q)
			resp := c.Get(t, "/events?"+f.q.Encode())
			require.Equal(t, http.StatusOK, resp.Status, "%v", f.q)
			require.Equal(t, want, matches(eventRow, resp.Body), "%v", f.q)
			require.Contains(t, resp.Body, "Stored webhooks that match")
		}
		resp = c.Get(t, "/events?to=2000-01-01")
		require.Contains(t, resp.Body, "No events match.")

		for _, q := range []string{"state=bogus", "auth=key", "from=yesterday", "to=2025-13-01"} {
			resp := c.Get(t, "/events?"+q)
			require.Equal(t, http.StatusBadRequest, resp.Status, q)
			name, _, _ := strings.Cut(q, "=")
			require.Contains(t, resp.Body, "This page cannot be filtered so: "+name+" must be ", q)
		}
		resp = c.Get(t, "/events?cursor=forged")
		require.Equal(t, http.StatusBadRequest, resp.Status)

		// An id goes straight to its page.
		resp = c.Get(t, "/events?id="+strconv.FormatInt(ev.Parked.ID, 10))
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Equal(t, eventPath(ev.Parked), resp.Header.Get("Location"))

		// Not logged in: the login form.
		resp = dashboardtest.NewClient(e.URL).Get(t, "/events")
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"))
	})
}

func TestDashboardEventPage(t *testing.T) {
	t.Parallel()
	eachEventDB(t, func(t *testing.T, e *env, ev *dashboardtest.Events) {
		c := dashboardtest.Login(t, e.URL, token)

		// No page of any event shows a secret or PII of its body.
		for i := range ev.All {
			resp := c.Get(t, eventPath(&ev.All[i]))
			require.Equal(t, http.StatusOK, resp.Status)
			requireMasked(t, resp.Body, eventPath(&ev.All[i]))
		}

		// The payout event: masked body, how it was authenticated, and the
		// payout it changed, linked both ways.
		resp := c.Get(t, eventPath(ev.Payout))
		body := resp.Body
		require.Contains(t, body, `<pre class="body" id="event-body">`)
		require.Contains(t, body, `&#34;email&#34;: &#34;`+dashboardtest.EventEmailMasked+`&#34;`)
		require.Contains(t, body, `&#34;ssn&#34;: &#34;[masked]&#34;`)
		require.Contains(t, body, `&#34;accountNumber&#34;: &#34;[masked]&#34;`)
		require.Contains(t, body, `&#34;signature&#34;: &#34;`+dashboardtest.SearchTransaction+`&#34;`)
		require.Contains(t, body, `&#34;cents&#34;: 25000`)
		require.Contains(t, body, `<dd id="event-auth">signature (Coinflow-Signature header), current key</dd>`)
		require.Contains(t, body, "<code>"+ev.Payout.DedupKey+"</code>")
		require.Contains(t, body, `<span class="badge ev-applied" id="event-state">applied</span>`)
		require.Contains(t, body, `<li data-effect="payout"><a href="/payouts/`+e.Fx.Search.ID+`"`)
		require.Contains(t, body, "pending → completed")
		require.Contains(t, body, "Never replayed.")
		resp = c.Get(t, "/payouts/"+e.Fx.Search.ID)
		require.Contains(t, resp.Body, `<a href="`+eventPath(ev.Payout)+`" class="event-link">event `+strconv.FormatInt(ev.Payout.ID, 10)+`</a>`)

		// The KYC event: the withdrawer it changed, linked both ways.
		resp = c.Get(t, eventPath(ev.Withdrawer))
		require.Contains(t, resp.Body, `<li data-effect="withdrawer"><a href="/withdrawers/`+dashboardtest.SearchUser+`">`)
		require.Contains(t, resp.Body, "Authorization header alone, current key")
		resp = c.Get(t, "/withdrawers/"+dashboardtest.SearchUser)
		require.Contains(t, resp.Body, `<a href="`+eventPath(ev.Withdrawer)+`" class="event-link">`)

		// The parked event: attempts and its last error, escaped.
		resp = c.Get(t, eventPath(ev.Parked))
		require.Contains(t, resp.Body, `<dd id="event-attempts">8</dd>`)
		// Shown as the API shows it: a quoted value (a database error may
		// quote one from the body) is dropped.
		require.Contains(t, resp.Body, `<code id="event-error">`+html.EscapeString(`decode: <script>alert("…")</script> & co`)+`</code>`)
		require.NotContains(t, resp.Body, "<script>alert")
		require.Contains(t, resp.Body, `id="no-effects"`)

		// A body that is not JSON, and one retention pruned.
		resp = c.Get(t, eventPath(ev.NotJSON))
		require.Contains(t, resp.Body, "[not JSON, "+strconv.Itoa(len(ev.NotJSON.Body))+" bytes]")
		require.NotContains(t, resp.Body, "ssn=")
		resp = c.Get(t, eventPath(ev.Pruned))
		require.Contains(t, resp.Body, "The body was pruned on")
		require.NotContains(t, resp.Body, `id="event-body"`)

		for _, p := range []string{"/events/abc", "/events/0", "/events/-1", "/events/99999999"} {
			resp := c.Get(t, p)
			require.Equal(t, http.StatusNotFound, resp.Status, p)
			require.Contains(t, resp.Body, "There is no event with that id.")
		}
	})
}

func TestDashboardEventReplay(t *testing.T) {
	t.Parallel()
	eachEventDB(t, func(t *testing.T, e *env, ev *dashboardtest.Events) {
		ctx := t.Context()
		c := dashboardtest.Login(t, e.URL, token)
		page := c.Get(t, eventPath(ev.Parked))
		require.Contains(t, page.Body, `<form method="post" action="`+eventPath(ev.Parked)+`/replay" class="replay-form">`)
		csrf := dashboardtest.CSRF(t, page.Body)
		path := eventPath(ev.Parked) + "/replay"

		// Without the session, without or with a wrong CSRF token, or from
		// another site: 403, and nothing changes.
		anon := dashboardtest.NewClient(e.URL)
		for _, r := range []dashboardtest.Response{
			anon.PostForm(t, path, url.Values{"csrf": {csrf}}),
			c.PostForm(t, path, url.Values{}),
			c.PostForm(t, path, url.Values{"csrf": {"forged"}}),
			c.Do(t, http.MethodPost, path, url.Values{"csrf": {csrf}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}),
		} {
			require.Equal(t, http.StatusForbidden, r.Status)
		}
		got, err := e.Store.InboxGet(ctx, ev.Parked.ID)
		require.NoError(t, err)
		require.Equal(t, models.InboxParked, got.Status)
		rs, err := e.Store.EventReplayList(ctx, ev.Parked.ID)
		require.NoError(t, err)
		require.Empty(t, rs)

		// With both: the parked event is applied again, once, through the
		// one replay path, and who and when are recorded and shown.
		e.Clock.Advance(90e9)
		resp := c.PostForm(t, path, url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
		loc := resp.Header.Get("Location")
		require.True(t, strings.HasPrefix(loc, eventPath(ev.Parked)+"?replayed="), loc)
		got, err = e.Store.InboxGet(ctx, ev.Parked.ID)
		require.NoError(t, err)
		require.Equal(t, models.InboxApplied, got.Status, "its cause was fixed: it applies")
		rs, err = e.Store.EventReplayList(ctx, ev.Parked.ID)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, principal.APIToken, rs[0].ReplayedBy, "the login's token name")
		require.True(t, rs[0].RequestedAt.Equal(e.Clock.Now().UTC()))
		page = c.Get(t, strings.TrimSuffix(loc, "#replays"))
		require.Contains(t, page.Body, `<p class="notice" role="status" id="replay-notice">Replay recorded: applied.</p>`)
		require.Contains(t, page.Body, `<td data-label="By">`+principal.APIToken+`</td>`)
		require.Contains(t, page.Body, `<span class="badge ev-applied" id="event-state">applied</span>`)

		// A crafted notice link shows nothing.
		page = c.Get(t, eventPath(ev.Parked)+"?replayed=%3Cb%3Eowned")
		require.NotContains(t, page.Body, "replay-notice")

		// An applied event: the replay is recorded, the event not changed.
		resp = c.PostForm(t, eventPath(ev.Payout)+"/replay", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		after, err := e.Store.InboxGet(ctx, ev.Payout.ID)
		require.NoError(t, err)
		require.Equal(t, ev.Payout, after)
		page = c.Get(t, strings.TrimSuffix(resp.Header.Get("Location"), "#replays"))
		require.Contains(t, page.Body, "Replay recorded: unchanged.")
		require.Contains(t, page.Body, `<td data-label="By">`+principal.APIToken+`</td>`)
		hist, err := e.Store.PayoutHistoryList(ctx, e.Fx.Search.ID)
		require.NoError(t, err)
		require.Len(t, hist, 3, "no new history")

		resp = c.PostForm(t, "/events/99999999/replay", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusNotFound, resp.Status)
	})
}
