package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// snoozeFields are a finding's snooze as the API shows it.
func snoozeFields(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	mustJSON(t, b, &v)
	out := map[string]any{}
	for _, k := range []string{"snoozed_until", "snooze_note", "snoozed_by"} {
		val, ok := v[k]
		require.True(t, ok, "%s is always in the view: %s", k, b)
		out[k] = val
	}
	return out
}

func listIDs(t *testing.T, srv *testserver.Server, query string) []string {
	t.Helper()
	code, b := get(t, srv, "/api/v1/findings?"+query)
	require.Equal(t, http.StatusOK, code, "%s", b)
	var pg findingPage
	mustJSON(t, b, &pg)
	ids := []string{}
	for _, f := range pg.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestSnoozeFinding(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		ctx := t.Context()
		store := srv.Store
		f := raise(t, store, models.KindStuckPayout, "p-sn", models.SeverityWarning, "p-sn")
		other := raise(t, store, models.KindSpeedMismatch, "p-sn", models.SeverityWarning, "p-sn")
		clock.Advance(time.Hour) // apiT0 + 1h
		snoozeURL := func(id string) string { return srv.URL + "/api/v1/findings/" + id + "/snooze" }

		// Not snoozed: the fields are there, null.
		code, b := get(t, srv, "/api/v1/findings?status=open")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, string(b), `"snoozed_until":null`)

		for _, tc := range []struct{ body, field string }{
			{`{"note":"x"}`, "until"},
			{`{"until":"tomorrow","note":"x"}`, "until"},
			{`{"until":"` + apiT0.Format(time.RFC3339) + `","note":"x"}`, "until"},
			{`{"until":"2025-06-01","note":"x"}`, "until"},
			{`{"until":"` + apiT0.Add(91*24*time.Hour).Format(time.RFC3339) + `","note":"x"}`, "until"},
			{`{"until":"2025-06-03"}`, "note"},
			{`{"until":"2025-06-03","note":"  "}`, "note"},
			{`{"until":"2025-06-03","note":"` + strings.Repeat("x", 2001) + `"}`, "note"},
		} {
			code, b := send(t, http.MethodPost, snoozeURL(f.ID), bearer, tc.body)
			requireInvalid(t, code, b, tc.field, fmt.Sprintf("%.80s", tc.body))
		}
		code, b = send(t, http.MethodPost, snoozeURL(f.ID), bearer, `not json`)
		require.Equal(t, http.StatusBadRequest, code, "%s", b)
		requireError(t, b, "bad_json")
		huge := `{"until":"2025-06-03","note":"` + strings.Repeat("x", 20<<10) + `"}`
		for _, u := range []string{snoozeURL(f.ID), srv.URL + "/api/v1/findings/" + f.ID + "/acknowledge"} {
			code, b = send(t, http.MethodPost, u, bearer, huge)
			require.Equal(t, http.StatusRequestEntityTooLarge, code, "%s: %.200s", u, b)
			requireError(t, b, "too_large")
		}
		code, b = send(t, http.MethodPost, snoozeURL(f.ID), "", `{"until":"2025-06-03","note":"x"}`)
		require.Equal(t, http.StatusUnauthorized, code, "%s", b)
		got, err := store.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Nil(t, got.SnoozedUntil, "refused snoozes change nothing")

		// A date: the start of that day, UTC.
		code, b = send(t, http.MethodPost, snoozeURL(f.ID), bearer, `{"until":"2025-06-03","note":"Coinflow says Tuesday"}`)
		require.Equal(t, http.StatusOK, code, "%s", b)
		requireUTCTimes(t, b)
		until := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		require.Equal(t, map[string]any{
			"snoozed_until": until.Format(time.RFC3339), "snooze_note": "Coinflow says Tuesday", "snoozed_by": "api",
		}, snoozeFields(t, b))
		var view findingJSON
		mustJSON(t, b, &view)
		require.Equal(t, "open", view.Status, "a snooze is not a status")

		// An RFC 3339 time in another zone is stored in UTC.
		code, b = send(t, http.MethodPost, snoozeURL(other.ID), bearer, `{"until":"2025-06-01T15:30:00+02:00","note":"later today"}`)
		require.Equal(t, http.StatusOK, code, "%s", b)
		require.Equal(t, "2025-06-01T13:30:00Z", snoozeFields(t, b)["snoozed_until"])

		require.Empty(t, listIDs(t, srv, "status=open"), "snoozed findings leave the open list")
		require.ElementsMatch(t, []string{f.ID, other.ID}, listIDs(t, srv, "status=snoozed"))

		// The other's snooze ends: open again, its snooze null in the view.
		clock.Set(time.Date(2025, 6, 1, 13, 30, 0, 0, time.UTC))
		require.Equal(t, []string{other.ID}, listIDs(t, srv, "status=open"))
		code, b = get(t, srv, "/api/v1/findings?status=open")
		require.Equal(t, http.StatusOK, code)
		var raw struct{ Findings []json.RawMessage }
		mustJSON(t, b, &raw)
		require.Len(t, raw.Findings, 1)
		require.Equal(t, map[string]any{"snoozed_until": nil, "snooze_note": nil, "snoozed_by": nil}, snoozeFields(t, raw.Findings[0]))

		code, b = send(t, http.MethodPost, snoozeURL(models.NewID()), bearer, `{"until":"2025-06-03","note":"x"}`)
		requireNotFound(t, code, b)

		// Resolved: 409, nothing changed.
		resolved, err := store.FindingResolve(ctx, models.KindStuckPayout, "p-sn")
		require.NoError(t, err)
		require.True(t, resolved)
		code, b = send(t, http.MethodPost, snoozeURL(f.ID), bearer, `{"until":"2025-06-05","note":"again"}`)
		require.Equal(t, http.StatusConflict, code, "%s", b)
		requireError(t, b, "finding_resolved")
		got, err = store.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, "Coinflow says Tuesday", *got.SnoozeNote)
		require.Empty(t, listIDs(t, srv, "status=snoozed"), "a resolved finding is not snoozed")
	})
}
