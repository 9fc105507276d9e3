package main

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
)

// waitReady polls base's /readyz until it answers 200, for 10 s at most.
func waitReady(t *testing.T, base string, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "serve did not become ready: %s", stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeAccessWiring runs the real serve and checks that the access keys
// reach the router: named tokens, rate limits and, by the listen address,
// whether the session cookie is Secure.
func TestServeAccessWiring(t *testing.T) {
	const alice = "alice-token-0123456789"
	for _, tc := range []struct {
		host   string
		secure bool
	}{
		{"0.0.0.0", true},    // auto: reachable from elsewhere, so reached over HTTPS
		{"127.0.0.1", false}, // auto: loopback only
	} {
		t.Run(tc.host, func(t *testing.T) {
			_, port, err := net.SplitHostPort(freeAddr(t))
			require.NoError(t, err)
			var stderr syncBuffer
			serve := runInBackground(t, []string{"payoutd", "serve"}, map[string]string{
				"PAYOUTD_LISTEN":                      net.JoinHostPort(tc.host, port),
				"PAYOUTD_DATABASE_URL":                "sqlite:" + filepath.Join(t.TempDir(), "p.db"),
				"PAYOUTD_API_TOKENS":                  "alice=" + alice,
				"PAYOUTD_RATE_LIMIT_LOGIN_PER_MINUTE": "2",
				"PAYOUTD_RATE_LIMIT_API_PER_SECOND":   "1",
				"PAYOUTD_RATE_LIMIT_API_BURST":        "1",
			}, &bytes.Buffer{}, &stderr)
			base := "http://127.0.0.1:" + port
			waitReady(t, base, &stderr)

			c := dashboardtest.Login(t, base, alice)
			page := c.Get(t, "/")
			require.Equal(t, http.StatusOK, page.Status)
			require.Contains(t, page.Body, "Signed in as <strong>alice</strong>")
			resp := dashboardtest.NewClient(base).PostForm(t, "/login", url.Values{"token": {alice}})
			require.Equal(t, tc.secure, dashboardtest.SessionCookie(t, resp).Secure, "Secure on %s", tc.host)

			anon := dashboardtest.NewClient(base)
			for range 2 {
				require.Equal(t, http.StatusUnauthorized, anon.PostForm(t, "/login", url.Values{"token": {"guess"}}).Status)
			}
			resp = anon.PostForm(t, "/login", url.Values{"token": {alice}})
			require.Equal(t, http.StatusTooManyRequests, resp.Status, "login_per_minute is 2")
			require.Nil(t, dashboardtest.SessionCookie(t, resp))

			// One a second, one at once: ten requests sent in less than nine
			// seconds cannot all pass.
			start := time.Now()
			codes := map[int]int{}
			for range 10 {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v1/findings", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+alice)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				codes[resp.StatusCode]++
			}
			require.Less(t, time.Since(start), 9*time.Second)
			require.Positive(t, codes[http.StatusOK], "alice's token authenticates: %v", codes)
			require.Positive(t, codes[http.StatusTooManyRequests], "the API limit is on: %v", codes)
			require.Equal(t, 10, codes[http.StatusOK]+codes[http.StatusTooManyRequests], "%v", codes)
			serve.stop(t, 15*time.Second)
			require.NotContains(t, stderr.String(), alice, "a token never reaches the log")
		})
	}
}
