package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the tests' own checks
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/apispec"
	"github.com/payoutd/payoutd/webhook"
)

// Secrets the daemon under test is started with.
const (
	testWebhookKey = "e2e-webhook-key-5b0c2f7d9e1a4c38"
	testAPIToken   = "e2e-api-token-81f3a6"
)

// buildPayoutd builds the binary from the module root into the test's
// temporary directory, with -tags when tags is not empty.
func buildPayoutd(t *testing.T, tags string) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	modFile := strings.TrimSpace(string(gomod))
	require.True(t, filepath.IsAbs(modFile) && filepath.Base(modFile) == "go.mod", "not inside the module: GOMOD=%q", modFile)

	bin := filepath.Join(t.TempDir(), "payoutd")
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = filepath.Dir(modFile)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	t.Logf("built payoutd (tags %q) in %s", tags, time.Since(start).Round(time.Millisecond))
	return bin
}

// daemon is one payoutd subprocess, restartable on the same address. Only the
// test goroutine calls its methods.
type daemon struct {
	t      *testing.T
	bin    string
	dir    string
	addr   string
	env    []string
	client *http.Client

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// startDaemon runs `payoutd serve` on dbURL at a free local port and waits
// until /readyz answers 200. The process is killed when the test ends,
// whatever happened, and its logs are printed if the test failed.
func startDaemon(t *testing.T, bin, dbURL string) *daemon {
	t.Helper()
	d := launchDaemon(t, bin, dbURL, nil)
	d.waitReady(30 * time.Second)
	return d
}

// launchDaemon starts `payoutd serve` on dbURL at a free local port, with
// the test's secrets, warn-level logs and the settings in extra (which win),
// without waiting for it. The process is killed when the test ends, and its
// logs are printed if the test failed.
func launchDaemon(t *testing.T, bin, dbURL string, extra map[string]string) *daemon {
	t.Helper()
	d := &daemon{
		t: t, bin: bin, dir: t.TempDir(), addr: freeAddr(t),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	vars := map[string]string{
		"PAYOUTD_DATABASE_URL":         dbURL,
		"PAYOUTD_LISTEN":               d.addr,
		"PAYOUTD_COINFLOW_WEBHOOK_KEY": testWebhookKey,
		"PAYOUTD_API_TOKEN":            testAPIToken,
		"PAYOUTD_LOG_LEVEL":            "warn",
	}
	maps.Copy(vars, extra)
	d.env = daemonEnv(vars)
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			d.dumpLogs()
		}
	})
	d.start()
	return d
}

// daemonEnv is the test's environment without any PAYOUTD_ setting of its
// own (those would reconfigure the daemon), plus vars.
func daemonEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAYOUTD_") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// URL is the daemon's base URL.
func (d *daemon) URL() string { return "http://" + d.addr }

func (d *daemon) start() {
	d.t.Helper()
	d.starts++
	logFile, err := os.Create(d.logPath(d.starts))
	require.NoError(d.t, err)
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(d.bin, "serve")
	cmd.Dir = d.dir // no config.yaml there: the environment is the whole configuration
	cmd.Env = d.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(d.t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	d.cmd, d.exited = cmd, exited
}

// kill sends SIGKILL, the crash nothing can intercept, and reaps the process.
func (d *daemon) kill() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Kill()
	<-d.exited
	d.cmd = nil
}

// restart kills the daemon and starts it again on the same address.
func (d *daemon) restart() {
	d.t.Helper()
	d.kill()
	d.start()
	d.waitReady(30 * time.Second)
}

// pid is the running process's id.
func (d *daemon) pid() int {
	d.t.Helper()
	require.NotNil(d.t, d.cmd, "payoutd is not running")
	return d.cmd.Process.Pid
}

// running reports whether the current process is still alive.
func (d *daemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// waitReady polls /readyz until it answers 200; the daemon dying or the
// deadline passing fails the test.
func (d *daemon) waitReady(timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		require.True(d.t, d.running(), "payoutd exited before it was ready")
		if code, _, err := d.get("/readyz", ""); err == nil && code == http.StatusOK {
			return
		}
		require.True(d.t, time.Now().Before(deadline), "payoutd not ready after %s", timeout)
		time.Sleep(20 * time.Millisecond)
	}
}

// get sends a GET, with a bearer token when token is set. An answer the
// OpenAPI document does not describe fails the test.
func (d *daemon) get(path, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, d.URL()+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, err
	}
	ch, err := apispec.Shared()
	if err == nil {
		err = ch.Check(req, resp.StatusCode, resp.Header, b)
	}
	if err != nil && !errors.Is(err, apispec.ErrNotDescribed) {
		d.t.Errorf("apispec: %v", err)
	}
	return resp.StatusCode, b, nil
}

func (d *daemon) logPath(n int) string {
	return filepath.Join(d.dir, fmt.Sprintf("payoutd-%d.log", n))
}

// dumpLogs prints the tail of every run's log.
func (d *daemon) dumpLogs() {
	for n := 1; n <= d.starts; n++ {
		f, err := os.Open(d.logPath(n))
		if err != nil {
			continue
		}
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		_ = f.Close()
		d.t.Logf("payoutd run %d log (%d lines, last 40):\n%s", n, len(lines), strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// postWebhook delivers body as Coinflow does, signed at the time of this
// attempt, and returns the status.
func postWebhook(ctx context.Context, client *http.Client, baseURL string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/webhooks/coinflow", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Coinflow-Signature", webhook.Sign([]byte(testWebhookKey), time.Now(), body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

type cents struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

type withdrawData struct {
	Wallet         string `json:"wallet"`
	Blockchain     string `json:"blockchain"`
	Signature      string `json:"signature"`
	MerchantFees   cents  `json:"merchantFees"`
	Total          cents  `json:"total"`
	Currency       string `json:"currency"`
	MerchantID     string `json:"merchantId"`
	UserID         string `json:"userId"`
	IdempotencyKey string `json:"idempotencyKey"`
}

type withdrawWebhook struct {
	EventType string       `json:"eventType"`
	Category  string       `json:"category"`
	Created   string       `json:"created"`
	Data      withdrawData `json:"data"`
}

// withdrawBody is a Withdraw* webhook, shaped like
// testdata/coinflow/fixtures/webhooks/withdraw-pending.json, for the withdrawal with
// transaction signature txn.
func withdrawBody(t *testing.T, eventType, txn string, created time.Time, totalCents int64) []byte {
	t.Helper()
	b, err := json.Marshal(withdrawWebhook{
		EventType: eventType, Category: "Withdraw", Created: created.UTC().Format("2006-01-02T15:04:05.000Z"),
		Data: withdrawData{
			Wallet: "3pPusdwkoBKCAKjJjaZhXEXCmuBuzp8zfEJnDrZNdeWM", Blockchain: "solana", Signature: txn,
			MerchantFees: cents{150, "USD"}, Total: cents{totalCents, "USD"}, Currency: "USD",
			MerchantID: "acme-payouts", UserID: "u-" + txn, IdempotencyKey: "idem-" + txn,
		},
	})
	require.NoError(t, err)
	return b
}

// openDB connects the test itself to the daemon's database, for checks made
// behind the daemon's back.
func openDB(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.PingContext(t.Context()))
	return db
}

// countRows runs a COUNT query.
func countRows(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.QueryRowContext(t.Context(), query, args...).Scan(&n), query)
	return n
}
