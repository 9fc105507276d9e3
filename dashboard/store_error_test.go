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
		require.NoError(t, e.Store.DB().Exec("DROP TABLE findings").Error)
		e.Logs.Reset()

		resp := c.Get(t, "/findings")
		require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
		require.Contains(t, resp.Body, "Something went wrong")
		require.NotContains(t, strings.ToLower(resp.Body), "no such table")
		require.NotContains(t, strings.ToLower(resp.Body), "does not exist")
		causes := storeErrorLogs(e)
		require.Len(t, causes, 1, "logged once: %v", causes)
		require.Contains(t, causes[0], "findings")
	})
}

func TestDashboardStoreUnavailableIs503(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		require.NoError(t, e.Store.Close())
		e.Logs.Reset()

		resp := c.Get(t, "/findings")
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s", resp.Body)
		require.Contains(t, resp.Body, "Database unavailable")
		require.Len(t, storeErrorLogs(e), 1)
	})
}
