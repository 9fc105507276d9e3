package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadyzURLFromListen(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:8080":    "http://127.0.0.1:8080/readyz",
		"0.0.0.0:8080":      "http://127.0.0.1:8080/readyz",
		":9000":             "http://127.0.0.1:9000/readyz",
		"[::]:8080":         "http://[::1]:8080/readyz",
		"[::1]:8081":        "http://[::1]:8081/readyz",
		"payoutd.local:443": "http://payoutd.local:443/readyz",
	} {
		t.Run(listen, func(t *testing.T) {
			require.Equal(t, want, readyzURL(listen))
		})
	}
}

// TestHealthcheckAnswers runs the command against servers that answer in
// each way it must tell apart; only a 200 within the timeout exits 0.
func TestHealthcheckAnswers(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/unready", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ready", http.StatusFound) })
	// hang answers only when the client has given up.
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(mux)
	closed.Close()

	for name, tc := range map[string]struct {
		args   []string
		ok     bool
		reason string
	}{
		"200":               {args: []string{"--url", srv.URL + "/ready"}, ok: true},
		"503":               {args: []string{"--url", srv.URL + "/unready"}, reason: "503 Service Unavailable"},
		"redirect":          {args: []string{"--url", srv.URL + "/moved"}, reason: "302 Found"},
		"no answer in time": {args: []string{"--url", srv.URL + "/hang", "--timeout", "200ms"}, reason: "deadline exceeded"},
		"nothing listening": {args: []string{"--url", closed.URL + "/ready"}, reason: "connection refused"},
		"not a URL":         {args: []string{"--url", "http://[::1"}, reason: "bad --url"},
		"zero timeout":      {args: []string{"--url", srv.URL + "/ready", "--timeout", "0s"}, reason: "--timeout must be positive"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := run(t.Context(), append([]string{"payoutd", "healthcheck"}, tc.args...), getenvFrom(nil), &stdout, &stderr)
			require.Less(t, time.Since(start), 2*time.Second, "the check is short")
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, srv.URL+"/ready: 200 OK\n", stdout.String())
				return
			}
			require.ErrorContains(t, err, tc.reason)
			require.Equal(t, 1, exitCode(err), "any failure exits 1: Docker reserves 2")
			require.Empty(t, stdout.String())
		})
	}
}

// A configuration problem is an unhealthy answer too: exit 1, not the
// usage code 2 Docker reserves.
func TestHealthcheckConfigProblemExits1(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"payoutd", "healthcheck"}, getenvFrom(map[string]string{"PAYOUTD_LISTEN": "nowhere"}), &stdout, &stderr)
	require.ErrorContains(t, err, "PAYOUTD_LISTEN")
	require.Equal(t, 1, exitCode(err))
	require.Empty(t, stdout.String())
}

// TestHealthcheckAgainstServe asks the real daemon, at the address its
// configuration listens on (no --url, as the container image does): not
// ready before it serves, ready while it does, and not after it stopped.
func TestHealthcheckAgainstServe(t *testing.T) {
	addr := freeAddr(t)
	env := map[string]string{
		"PAYOUTD_LISTEN":               addr,
		"PAYOUTD_DATABASE_URL":         "sqlite:" + filepath.Join(t.TempDir(), "p.db"),
		"PAYOUTD_COINFLOW_WEBHOOK_KEY": "whsec-key-for-test",
		"PAYOUTD_API_TOKEN":            "tok",
	}
	check := func() (string, error) {
		var stdout bytes.Buffer
		err := run(t.Context(), []string{"payoutd", "healthcheck"}, getenvFrom(env), &stdout, &bytes.Buffer{})
		return stdout.String(), err
	}
	_, err := check()
	require.ErrorContains(t, err, "connection refused", "nothing serves yet")

	var stderr syncBuffer
	serve := runInBackground(t, []string{"payoutd", "serve"}, env, &bytes.Buffer{}, &stderr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := check()
		if err == nil {
			require.Equal(t, "http://"+addr+"/readyz: 200 OK\n", out)
			break
		}
		require.True(t, time.Now().Before(deadline), "serve did not become ready: %v; %s", err, stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	serve.stop(t, 15*time.Second)
	_, err = check()
	require.Error(t, err, "a stopped daemon is not ready")
	require.Equal(t, 1, exitCode(err))
}
