package dashboard_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
)

// storeErrorLogs are the causes of the errors the dashboard logged.
func storeErrorLogs(e *env) []string {
	var causes []string
	for _, entry := range e.Logs.AllEntries() {
		if err, ok := entry.Data[logrus.ErrorKey].(error); ok && entry.Level == logrus.ErrorLevel {
			causes = append(causes, err.Error())
		}
	}
	return causes
}

// A query that fails on a reachable database is an internal error, not
// "Database unavailable": retrying will not fix it.
func TestDashboardStoreFailureIsInternalError(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		for _, tc := range []struct{ table, path string }{
			{"findings", "/findings"},
			{"destinations", "/withdrawers/" + dashboardtest.SearchUser},
			{"withdrawer_history", "/withdrawers/" + dashboardtest.SearchUser},
		} {
			require.NoError(t, e.Store.DB().Exec("DROP TABLE "+tc.table).Error)
			e.Logs.Reset()

			resp := c.Get(t, tc.path)
			require.Equal(t, http.StatusInternalServerError, resp.Status, "%s: %s", tc.table, resp.Body)
			require.Contains(t, resp.Body, "Something went wrong")
			require.NotContains(t, strings.ToLower(resp.Body), "no such table")
			require.NotContains(t, strings.ToLower(resp.Body), "does not exist")
			causes := storeErrorLogs(e)
			require.Len(t, causes, 1, "logged once: %v", causes)
			require.Contains(t, causes[0], tc.table)
		}
	})
}

func TestDashboardStoreUnavailableIs503(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		require.NoError(t, e.Store.Close())
		for _, p := range []string{"/findings", "/payouts", "/runs", "/withdrawers", "/withdrawers/" + dashboardtest.SearchUser} {
			e.Logs.Reset()
			resp := c.Get(t, p)
			require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s: %s", p, resp.Body)
			require.Contains(t, resp.Body, "Database unavailable", p)
			require.Len(t, storeErrorLogs(e), 1, p)
		}
	})
}
