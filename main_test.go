package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("listen: 127.0.0.1:9999\nwallet:\n  low_balance_cents: 500\n"), 0o600))

	cfg, err := loadConfig(path, true, getenvFrom(map[string]string{
		"PAYOUTD_WALLET_LOW_BALANCE_CENTS":     "700",
		"PAYOUTD_COINFLOW_SIGNATURE_TOLERANCE": "90s",
		"PAYOUTD_API_TOKEN":                    "tok",
	}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", cfg.Listen, "file overrides default")
	require.EqualValues(t, 700, cfg.Wallet.LowBalanceCents, "environment overrides file")
	require.Equal(t, 90*time.Second, cfg.Coinflow.SignatureTolerance.D())
	require.Equal(t, "tok", cfg.API.Token.Value())
	require.Equal(t, "@every 5m", cfg.Reconcile.Schedule, "SPEC default")
	require.Equal(t, "", cfg.Database.URL.Value(), "embedded SQLite by default")
}

func TestConfigShippedFileIsValid(t *testing.T) {
	cfg, err := loadConfig("config.yaml", true, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, defaultConfig(), cfg, "config.yaml documents the defaults")
}

func TestConfigRejectsUnknownKeysAndBadValues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("listen: 127.0.0.1:1\nlisten_typo: x\n"), 0o600))
	_, err := loadConfig(path, true, getenvFrom(nil))
	require.ErrorContains(t, err, "listen_typo")

	_, err = loadConfig(filepath.Join(dir, "missing.yaml"), false, getenvFrom(map[string]string{
		"PAYOUTD_RECONCILE_SCHEDULE":           "every now and then",
		"PAYOUTD_WALLET_LOW_BALANCE_CENTS":     "12.5",
		"PAYOUTD_DATABASE_URL":                 "mysql://x",
		"PAYOUTD_COINFLOW_SIGNATURE_TOLERANCE": "soon",
	}))
	require.Error(t, err)
	for _, want := range []string{"PAYOUTD_WALLET_LOW_BALANCE_CENTS", "PAYOUTD_COINFLOW_SIGNATURE_TOLERANCE"} {
		require.ErrorContains(t, err, want)
	}

	_, err = loadConfig(filepath.Join(dir, "missing.yaml"), true, getenvFrom(nil))
	require.Error(t, err, "an explicitly named config file must exist")
}

func TestSecretsNeverPrint(t *testing.T) {
	var cfg Config
	cfg.Coinflow.WebhookKey = "whsec-very-secret"
	cfg.Database.URL = "postgres://u:hunter2@db/x"
	cfg.API.Tokens = APITokens{{Name: "alice", Token: "alice-token-never-printed"}}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	type holder struct{ Key Secret }
	x, err := xml.Marshal(holder{cfg.Coinflow.WebhookKey})
	require.NoError(t, err)
	text, err := cfg.Coinflow.WebhookKey.MarshalText()
	require.NoError(t, err)
	k := cfg.Coinflow.WebhookKey
	printed := []string{string(b), string(y), string(x), string(text),
		fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, k),
		fmt.Sprintf("%x %X %q %d %10.3s %c %T", k, k, k, k, k, k, k), fmt.Sprint(k), fmt.Sprintln(k)}
	for _, s := range printed {
		for _, secret := range []string{"whsec-very-secret", "hunter2", "alice-token-never-printed", "7768736563"} { // the last: hex of "whsec"
			require.NotContains(t, s, secret)
		}
	}
	require.Contains(t, string(y), "webhook_key: '[redacted]'")
	require.Contains(t, string(y), `api_key: ""`, "an unset secret shows empty in YAML")
}

func TestRunUsageErrorsExit2(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown command":      {"payoutd", "frobnicate"},
		"unknown flag":         {"payoutd", "serve", "--nope"},
		"extra argument":       {"payoutd", "migrate", "extra"},
		"missing named config": {"payoutd", "migrate", "--config", "/nonexistent/payoutd.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), args, getenvFrom(nil), &stdout, &stderr)
			require.Error(t, err)
			require.Equal(t, 2, exitCode(err))
			require.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// background is a run of payoutd in a goroutine, as an operator's process.
type background struct {
	cancel context.CancelFunc
	done   chan error // receives run's result
}

// runInBackground starts run with args and env; it is cancelled when the
// test ends, if stop has not been called.
func runInBackground(t *testing.T, args []string, env map[string]string, stdout, stderr io.Writer) *background {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	b := &background{cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- run(ctx, args, getenvFrom(env), stdout, stderr) }()
	return b
}

// stop cancels the run, as Ctrl-C does, and requires it to return nil
// within wait.
func (b *background) stop(t *testing.T, wait time.Duration) {
	t.Helper()
	b.cancel()
	select {
	case err := <-b.done:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatalf("payoutd did not stop within %s of cancellation", wait)
	}
}

// TestServeStartsAndShutsDown runs the real serve on a fresh SQLite file,
// polls /healthz and /readyz, then cancels and expects a clean return.
func TestServeStartsAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	// The test reads the log while serve writes it.
	var stderr syncBuffer
	serve := runInBackground(t, []string{"payoutd", "serve"}, map[string]string{
		"PAYOUTD_LISTEN":               addr,
		"PAYOUTD_DATABASE_URL":         "sqlite:" + filepath.Join(dir, "p.db"),
		"PAYOUTD_COINFLOW_WEBHOOK_KEY": "whsec-key-for-test",
		"PAYOUTD_API_TOKEN":            "tok",
	}, &bytes.Buffer{}, &stderr)
	waitReady(t, "http://"+addr, &stderr)
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	metricsText, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	v := buildVersion()
	require.Contains(t, string(metricsText), fmt.Sprintf(`payoutd_build_info{commit=%q,date=%q,goversion=%q,version=%q} 1`, v.Commit, v.Date, v.Go, v.Version))

	serve.stop(t, 15*time.Second)
	logs := stderr.String()
	require.Contains(t, logs, "payoutd listening")
	require.False(t, strings.Contains(logs, "whsec-key-for-test"), "the webhook key never reaches the log")
}
