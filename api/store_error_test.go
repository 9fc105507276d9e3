package api_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// storeErrorLogs are the error entries the API logged for failed store
// requests, with their causes.
func storeErrorLogs(srv *testserver.Server) []string {
	var causes []string
	for _, e := range srv.Logs.AllEntries() {
		if e.Level == logrus.ErrorLevel && e.Data["component"] == "http" {
			err, _ := e.Data[logrus.ErrorKey].(error)
			if err != nil {
				causes = append(causes, err.Error())
			}
		}
	}
	return causes
}

// A query that fails every time is not an outage: answering 503 would have
// callers retry it forever. It is a 500 with a fixed message, and its cause
// goes to the log, once.
func TestStoreFailureIsInternalError(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		require.NoError(t, srv.Store.DB().Exec("DROP TABLE findings").Error)

		for _, path := range []string{"/api/v1/findings", "/api/v1/payouts?stuck=true"} {
			srv.Logs.Reset()
			code, b := get(t, srv, path)
			require.Equal(t, http.StatusInternalServerError, code, "%s: %s", path, b)
			e := requireError(t, b, "internal")
			require.Equal(t, "internal error", e.Error.Message)
			require.NotContains(t, strings.ToLower(string(b)), "findings", "no cause in the body")

			causes := storeErrorLogs(srv)
			require.Len(t, causes, 1, "%s: logged once: %v", path, causes)
			require.Contains(t, causes[0], "findings", "the cause names the missing table")
		}
	})
}

func TestStoreUnavailableIs503(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		require.NoError(t, srv.Store.Close())

		for _, path := range []string{"/api/v1/findings", "/api/v1/payouts", "/api/v1/reports/summary?from=2025-06-01&to=2025-06-02"} {
			srv.Logs.Reset()
			code, b := get(t, srv, path)
			require.Equal(t, http.StatusServiceUnavailable, code, "%s: %s", path, b)
			e := requireError(t, b, "unavailable")
			require.Equal(t, "the database is unavailable; retry later", e.Error.Message)
			require.Len(t, storeErrorLogs(srv), 1, "%s: logged once", path)
		}
	})
}

// cutProxy forwards TCP to target until cut, which closes every forwarded
// connection and the listener: the database has gone away and refuses new
// connections.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(c, u) }()
			go func() { _, _ = io.Copy(u, c) }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// PostgreSQL going away mid-session and then refusing connections is an
// outage: 503 for the request that lost its connection and for the ones
// that cannot get a new one.
func TestPostgresGoneIs503(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(dbtest.PostgresURL(t))
	require.NoError(t, err)
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	store, err := models.Open(t.Context(), models.Options{URL: u.String()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	_, err = store.Migrate(t.Context())
	require.NoError(t, err)
	srv := testserver.Start(t, store, testserver.Options{})
	code, b := get(t, srv, "/api/v1/findings")
	require.Equal(t, http.StatusOK, code, "%s", b)

	proxy.cut()
	for i := range 3 {
		srv.Logs.Reset()
		code, b := get(t, srv, "/api/v1/findings")
		require.Equal(t, http.StatusServiceUnavailable, code, "request %d: %s", i, b)
		requireError(t, b, "unavailable")
		causes := storeErrorLogs(srv)
		require.Len(t, causes, 1, "request %d", i)
		t.Logf("request %d: %s", i, causes[0])
	}
}
