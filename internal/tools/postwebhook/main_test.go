package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/webhook"
)

// TestPostSignsAsCoinflow posts a recorded webhook to a server that checks
// it with payoutd's own verifier under the server's key and clock.
func TestPostSignsAsCoinflow(t *testing.T) {
	const serverKey = "whsec-test-key"
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	var (
		mu       sync.Mutex
		received [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, body)
		mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if err := webhook.VerifySignature([]byte(serverKey), r.Header.Get("Coinflow-Signature"), body, now.Add(30*time.Second), 5*time.Minute); err != nil {
			http.Error(w, `{"error":{"code":"unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	fixture := filepath.Join("..", "..", "..", "testdata", "coinflow", "fixtures", "webhooks", "withdraw-success.json")
	want, err := os.ReadFile(fixture)
	require.NoError(t, err)
	missing := filepath.Join(t.TempDir(), "missing.json")

	for name, tc := range map[string]struct {
		env      map[string]string
		args     []string
		code     int
		stdout   string
		stderr   string
		received int
	}{
		"signed with the right key": {
			env: map[string]string{"PAYOUTD_COINFLOW_WEBHOOK_KEY": serverKey}, args: []string{fixture},
			code: 0, stdout: srv.URL + ": 200 OK\n", received: 1,
		},
		"key from another variable": {
			env: map[string]string{"KEY": serverKey}, args: []string{"--key-env", "KEY", fixture},
			code: 0, stdout: srv.URL + ": 200 OK\n", received: 1,
		},
		"signed with another key": {
			env: map[string]string{"PAYOUTD_COINFLOW_WEBHOOK_KEY": "not-the-key"}, args: []string{fixture},
			code: 1, stderr: "webhook not accepted: 401 Unauthorized", received: 1,
		},
		"no key": {
			args: []string{fixture}, code: 2, stderr: "PAYOUTD_COINFLOW_WEBHOOK_KEY is empty",
		},
		"no file": {
			env: map[string]string{"PAYOUTD_COINFLOW_WEBHOOK_KEY": serverKey}, args: []string{missing},
			code: 2, stderr: "no such file",
		},
		"no argument": {
			env: map[string]string{"PAYOUTD_COINFLOW_WEBHOOK_KEY": serverKey}, code: 2, stderr: "name one file",
		},
	} {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			received = nil
			mu.Unlock()
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tc.env[k] }
			code := run(t.Context(), append([]string{"--url", srv.URL}, tc.args...), getenv, func() time.Time { return now }, &stdout, &stderr)
			require.Equal(t, tc.code, code, stderr.String())
			require.Equal(t, tc.stdout, stdout.String())
			require.Contains(t, stderr.String(), tc.stderr)
			require.NotContains(t, stderr.String()+stdout.String(), serverKey, "the key is never printed")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, received, tc.received)
			for _, b := range received {
				require.Equal(t, want, b, "the file's bytes, exactly")
			}
		})
	}
}
