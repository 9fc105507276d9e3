package dashboard_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

var nextLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// TestDashboardPayoutFilters: every filter of GET /api/v1/payouts chooses
// the payouts list's rows, alone and together.
func TestDashboardPayoutFilters(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		all := func(*models.Payout) bool { return true }
		speedIs := func(s string) func(p *models.Payout) bool {
			return func(p *models.Payout) bool {
				return models.Deref(p.RequestedSpeed) == s || models.Deref(p.EffectiveSpeed) == s
			}
		}
		// The seed's open stuck_payout findings name its second and third
		// payouts.
		stuck := map[string]bool{e.Fx.Payouts[1].ID: true, e.Fx.Payouts[2].ID: true}
		day := e.Fx.End.Truncate(24*time.Hour).AddDate(0, 0, -3)
		onDay := func(p *models.Payout) bool {
			return !p.CreatedAt.Before(day) && p.CreatedAt.Before(day.AddDate(0, 0, 1))
		}
		cases := []struct {
			query string
			keep  func(p *models.Payout) bool
		}{
			{"", all},
			{"speed=standard", speedIs("standard")},
			{"speed=same_day", speedIs("same_day")},
			{"speed=asap", speedIs("asap")},
			{"speed=card", func(*models.Payout) bool { return false }},
			{"stuck=true", func(p *models.Payout) bool { return stuck[p.ID] }},
			{"from=" + day.Format(time.DateOnly) + "&to=" + day.Format(time.DateOnly), onDay},
			{"from=" + day.Format(time.DateOnly), func(p *models.Payout) bool { return !p.CreatedAt.Before(day) }},
			{"to=" + day.Format(time.DateOnly), func(p *models.Payout) bool { return p.CreatedAt.Before(day.AddDate(0, 0, 1)) }},
			{"from=" + day.Add(12*time.Hour).Format("2006-01-02T15:04"), func(p *models.Payout) bool {
				return !p.CreatedAt.Before(day.Add(12 * time.Hour))
			}},
			{"to=" + url.QueryEscape(day.Add(10*time.Hour).Format(time.RFC3339)), func(p *models.Payout) bool {
				return p.CreatedAt.Before(day.Add(10 * time.Hour))
			}},
			{"speed=same_day&status=completed", func(p *models.Payout) bool {
				return speedIs("same_day")(p) && p.Status == models.StatusCompleted
			}},
			{"stuck=true&speed=" + models.Deref(e.Fx.Payouts[1].RequestedSpeed), func(p *models.Payout) bool {
				return stuck[p.ID] && speedIs(models.Deref(e.Fx.Payouts[1].RequestedSpeed))(p)
			}},
			{"user_id=user-1&from=" + day.AddDate(0, 0, -4).Format(time.DateOnly), func(p *models.Payout) bool {
				return p.UserID == "user-1" && !p.CreatedAt.Before(day.AddDate(0, 0, -4))
			}},
		}
		for _, tc := range cases {
			want := newestPayouts(e.Fx, tc.keep)
			body := getList(t, c, "/payouts", tc.query, payoutRow, want, "No payouts match.")
			if tc.query != "" {
				require.NotEqual(t, newestPayouts(e.Fx, all), want, "%s: the filter must change the rows", tc.query)
			}
			if tc.query != "" {
				require.Contains(t, body, "Payouts that match, newest first.", tc.query)
			}
		}
		require.Equal(t, newestPayouts(e.Fx, all), matches(payoutRow, c.Get(t, "/payouts?stuck=false").Body), "stuck=false, as in the API")
		require.Len(t, newestPayouts(e.Fx, func(p *models.Payout) bool { return stuck[p.ID] }), 2)
		require.NotEmpty(t, newestPayouts(e.Fx, onDay))

		// The form shows the filters it was given.
		body := c.Get(t, "/payouts?stuck=true&speed=asap&from=2025-06-02&to=2025-06-05").Body
		require.Contains(t, body, `<option value="true" selected>stuck only</option>`)
		require.Contains(t, body, `<option value="asap" selected>asap</option>`)
		require.Contains(t, body, `<input type="date" name="from" value="2025-06-02">`)
		require.Contains(t, body, `<input type="date" name="to" value="2025-06-05">`)
	})
}

// TestDashboardPayoutFiltersPaging: the link to the next page keeps every
// filter, and the next page is filtered too.
func TestDashboardPayoutFiltersPaging(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		var ps []dbtest.RawPayout
		for i := range 130 {
			speed := []string{"card", "standard"}[i%2]
			ps = append(ps, dbtest.RawPayout{
				ID: fmt.Sprintf("p-%03d", i), Cents: int64(100 + i), Speed: speed,
				CreatedAt: t0.Add(-time.Duration(i) * time.Hour),
			})
		}
		dbtest.InsertPayouts(t, store, ps...)
		u, _ := serve(t, store, clock, dashboard.Deps{Tokens: sharedToken(token)})
		c := dashboardtest.Login(t, u, token)

		// Card payouts from a day range: every other hour, 110 hours back.
		from, to := t0.Add(-110*time.Hour).Format(time.DateOnly), t0.Format(time.DateOnly)
		var want []string
		for i, p := range ps {
			if p.Speed == "card" && !p.CreatedAt.Before(t0.Add(-110*time.Hour).Truncate(24*time.Hour)) {
				want = append(want, ps[i].ID)
			}
		}
		require.Greater(t, len(want), 50)
		resp := c.Get(t, "/payouts?speed=card&from="+from+"&to="+to)
		require.Equal(t, http.StatusOK, resp.Status)
		got := matches(payoutRow, resp.Body)
		require.Equal(t, want[:50], got)
		next := nextLink.FindStringSubmatch(resp.Body)
		require.NotNil(t, next, "a next page")
		link, err := url.Parse(html.UnescapeString(next[1]))
		require.NoError(t, err)
		require.Equal(t, "/payouts", link.Path)
		q := link.Query()
		require.Equal(t, "card", q.Get("speed"))
		require.Equal(t, from, q.Get("from"))
		require.Equal(t, to, q.Get("to"))
		require.NotEmpty(t, q.Get("cursor"))
		resp = c.Get(t, link.RequestURI())
		require.Equal(t, http.StatusOK, resp.Status)
		require.Equal(t, want[50:], matches(payoutRow, resp.Body))
		require.Nil(t, nextLink.FindStringSubmatch(resp.Body), "the last page")
	})
}

// TestDashboardBadFilters: a value a filter does not take, or a filter a
// page does not have, is a 400 page naming it, and shows no rows.
func TestDashboardBadFilters(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		cases := []struct{ path, query, named string }{
			{"/payouts", "status=lost", "status must be one of requested, unknown, pending, in_review, completed, failed"},
			{"/payouts", "speed=warp", "speed must be one of asap, same_day, standard"},
			{"/payouts", "stuck=yes", "stuck must be true or false"},
			{"/payouts", "from=yesterday", "from must be an RFC 3339 time or a YYYY-MM-DD date"},
			{"/payouts", "to=2025-13-01", "to must be an RFC 3339 time or a YYYY-MM-DD date"},
			{"/payouts", "from=2025-06-05&to=2025-06-04", "to must come after from"},
			{"/payouts", "currency=EUR", "currency is not a filter of this page"},
			{"/payouts", "speed=asap&limit=5", "limit is not a filter of this page"},
			{"/withdrawers", "status=gone", "status must be one of pending, partial-approval, approved, rejected, expired"},
			{"/withdrawers", "country=US", "country is not a filter of this page"},
			{"/events", "state=bogus", "state must be one of applied"},
			{"/events", "kind=x", "kind is not a filter of this page"},
			{"/runs", "outcome=ok", "outcome is not a filter of this page"},
			{"/findings", "stauts=open", "stauts is not a filter of this page"},
			{"/findings", "from=2025-01-01", "from is not a filter of this page"},
			{"/findings", "status=closed", "status must be one of open, acknowledged, snoozed, resolved"},
			{"/findings", "severity=fatal", "severity must be one of"},
			{"/findings", "kind=lost_money", "kind must be one of"},
		}
		for _, tc := range cases {
			resp := c.Get(t, tc.path+"?"+tc.query)
			require.Equal(t, http.StatusBadRequest, resp.Status, tc.query)
			require.Contains(t, html.UnescapeString(resp.Body), "This page cannot be filtered so: "+tc.named, tc.query)
			require.Contains(t, resp.Body, `<a href="`+tc.path+`">Go back</a>`, tc.query)
			for _, row := range []*regexp.Regexp{payoutRow, withdrawerRow, eventRow, runRow} {
				require.Empty(t, matches(row, resp.Body), tc.query)
			}
		}
		// Two problems at once are both named.
		resp := c.Get(t, "/payouts?speed=warp&stuck=maybe")
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, resp.Body, "speed must be one of")
		require.Contains(t, resp.Body, "stuck must be true or false")
	})
}
