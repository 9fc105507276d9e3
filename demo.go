package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// demoKinds are the finding kinds the scripted traffic must produce.
var demoKinds = []string{
	"speed_mismatch", "stuck_payout", "unverified_withdrawer", "wallet_low_balance", "status_mismatch", "missing_locally",
}

// demo runs the emulator, payoutd on a fresh embedded database and a few
// minutes of payout traffic compressed into seconds, reconciles, prints a
// summary and serves until ctx ends.
func demo(ctx context.Context, cfg Config, logger *logrus.Logger, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "payoutd-demo-")
	if err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	defer os.RemoveAll(dir)
	token := randomHex(12)
	webhookKey := randomHex(16)
	apiKey := "demo-" + randomHex(8)

	emu := coinflowtest.New(coinflowtest.Options{
		APIKey: apiKey, WebhookKey: webhookKey, Start: time.Now().UTC(), InitialBalanceCents: 5_000_000_00,
		// A payout's lifecycle takes seconds instead of hours or days.
		Lifecycle:    coinflowtest.Lifecycle{"asap": 2 * time.Second, "card": 2 * time.Second, "same_day": 4 * time.Second, "standard": 6 * time.Second},
		WebhookRetry: coinflowtest.RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second, GiveUpAfter: time.Minute},
	})
	defer emu.Close()
	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the emulator: %w", err)
	}
	emuSrv := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
	go emuSrv.Serve(emuLn) //nolint:errcheck // closed at the end
	defer emuSrv.Close()
	go followWallClock(ctx, emu)

	// The configured address when it is free, else any free port; always
	// a concrete one, as the emulator and the summary need it.
	listen := cfg.Listen
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("find a port for payoutd: %w", err)
		}
	}
	listen = ln.Addr().String()
	ln.Close()
	cfg.Listen = listen
	cfg.Database.URL = Secret("sqlite:" + filepath.Join(dir, "payoutd.db"))
	cfg.Coinflow.BaseURL = "http://" + emuLn.Addr().String()
	cfg.Coinflow.APIKey = Secret(apiKey)
	cfg.Coinflow.WebhookKey = Secret(webhookKey)
	cfg.API.Token = Secret(token)
	cfg.Reconcile.Schedule = "@every 1m"
	cfg.Reconcile.StuckGrace = Duration(time.Second)
	cfg.Reconcile.InstantWindow = Duration(5 * time.Second)
	cfg.Wallet.LowBalanceCents = 4_000_000_00
	emu.SetWebhookURL("http://" + listen + "/webhooks/coinflow")

	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- serve(serveCtx, cfg, logger) }()

	c := &demoClient{base: "http://" + listen, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	if err := c.waitReady(ctx, served); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "payoutd demo: Coinflow emulator on %s, payoutd on http://%s, database %s\n", cfg.Coinflow.BaseURL, listen, dir)
	fmt.Fprintln(stdout, "sending payout traffic…")
	if err := runDemoTraffic(ctx, c, emu, stdout); err != nil {
		return err
	}
	run, err := c.reconcile(ctx)
	if err != nil {
		return err
	}
	if err := printDemoSummary(ctx, c, run, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nDashboard: http://%s/  (log in with the API token %s)\n", listen, token)
	fmt.Fprintf(stdout, "API:       curl -H 'Authorization: Bearer %s' http://%s/api/v1/findings\n", token, listen)
	fmt.Fprintln(stdout, "Serving until Ctrl-C.")
	select {
	case <-ctx.Done():
		return <-served
	case err := <-served:
		return err
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runDemoTraffic scripts the payouts: every speed, an over-limit same-day,
// an unexpected downgrade, dropped and duplicated webhooks, a failure, a
// return, a stuck payout, a blocked withdrawer, a payout made outside
// payoutd and, through all of it, a wallet falling under its floor.
func runDemoTraffic(ctx context.Context, c *demoClient, emu *coinflowtest.Emulator, out io.Writer) error {
	const bank, card = "bnk_demoAlice0001", "crd_demoAlice0001"
	for _, w := range []coinflowtest.WithdrawerSpec{
		{UserID: "alice", Verification: "approved", BankToken: bank, CardToken: card},
		{UserID: "bob", Verification: "pending"},
		{UserID: "carol", Verification: "approved", BankToken: "bnk_demoCarol0001"},
		{UserID: "dave", Verification: "approved", BankToken: "bnk_demoDave00001"},
	} {
		if _, err := emu.AddWithdrawer(w); err != nil {
			return fmt.Errorf("add withdrawer %s: %w", w.UserID, err)
		}
	}
	pay := func(user string, cents int64, speed, account string) (map[string]any, error) {
		p, status, err := c.payout(ctx, user, cents, speed, account)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "  %-6s %-9s %16s  -> %d %v\n", user, speed, formatCents(cents), status, p["status"])
		return p, nil
	}
	txn := func(p map[string]any) string {
		cf, _ := p["coinflow"].(map[string]any)
		s, _ := cf["transaction"].(string)
		return s
	}

	// Duplicated webhooks for the first payouts: stored once, applied once.
	emu.SetWebhookFaults(coinflowtest.WebhookFaults{Duplicate: true})
	for _, p := range []struct {
		speed, account string
		cents          int64
	}{{"asap", bank, 2500}, {"same_day", bank, 48000}, {"standard", bank, 120000}, {"card", card, 4999}} {
		if _, err := pay("alice", p.cents, p.speed, p.account); err != nil {
			return err
		}
	}
	if _, err := pay("dave", 125_000_000, "same_day", "bnk_demoDave00001"); err != nil { // NACHA: becomes standard
		return err
	}
	emu.SetDowngrade("asap", "standard")
	if _, err := pay("dave", 30000, "asap", "bnk_demoDave00001"); err != nil { // an unexpected downgrade
		return err
	}
	emu.SetDowngrade("asap", "")
	if _, err := pay("carol", 7500, "asap", "bnk_demoCarol0001"); err != nil {
		return err
	}
	if err := emu.SetBlocked("carol", true); err != nil {
		return err
	}
	if _, status, err := c.payout(ctx, "bob", 1000, "asap", "bnk_none"); err != nil {
		return err
	} else {
		fmt.Fprintf(out, "  %-6s %-9s %16s  -> %d verification required\n", "bob", "asap", formatCents(1000), status)
	}
	failed, err := pay("alice", 1999, "card", card)
	if err != nil {
		return err
	}
	if err := emu.Fail(txn(failed), "Card is not eligible for disbursements"); err != nil {
		return err
	}
	stuck, err := pay("alice", 6000, "asap", bank)
	if err != nil {
		return err
	}
	if err := emu.Stuck(txn(stuck)); err != nil {
		return err
	}
	returned, err := pay("alice", 15000, "asap", bank)
	if err != nil {
		return err
	}
	if _, err := emu.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "dave", AmountCents: 5000, Speed: "asap", NoWebhooks: true}); err != nil {
		return err
	}
	// Lose the next webhooks: reconciliation must heal what they carried.
	emu.SetWebhookFaults(coinflowtest.WebhookFaults{DropNext: 3})

	fmt.Fprintln(out, "letting payouts settle (seconds stand for hours)…")
	if err := sleepCtx(ctx, 7*time.Second); err != nil {
		return err
	}
	if err := emu.FailAfterSuccess(txn(returned)); err != nil {
		return fmt.Errorf("return payout: %w", err)
	}
	if err := emu.ReturnComplete(txn(returned)); err != nil {
		return fmt.Errorf("complete return: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := emu.WaitWebhooks(waitCtx); err != nil {
		return fmt.Errorf("wait for webhooks: %w", err)
	}
	return sleepCtx(ctx, time.Second) // let the applier catch up
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func formatCents(c int64) string {
	return fmt.Sprintf("%d.%02d USD", c/100, c%100)
}

func printDemoSummary(ctx context.Context, c *demoClient, run map[string]any, out io.Writer) error {
	fmt.Fprintf(out, "\nreconciliation run %v: %v\n", run["id"], run["outcome"])
	if counts, ok := run["counts"].(map[string]any); ok {
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "  %-22s %v\n", k, counts[k])
		}
	}
	var findings struct {
		Findings []struct {
			Kind     string `json:"kind"`
			Severity string `json:"severity"`
		} `json:"findings"`
	}
	if err := c.get(ctx, "/api/v1/findings?status=open&limit=500", &findings); err != nil {
		return err
	}
	byKind := map[string]int{}
	for _, f := range findings.Findings {
		byKind[f.Kind+" ("+f.Severity+")"]++
	}
	fmt.Fprintln(out, "\nopen findings:")
	keys := make([]string, 0, len(byKind))
	for k := range byKind {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "  %-36s %d\n", k, byKind[k])
	}
	var missing []string
	for _, kind := range demoKinds {
		found := false
		for k := range byKind {
			found = found || strings.HasPrefix(k, kind+" ")
		}
		if !found {
			missing = append(missing, kind)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(out, "  (expected but not raised: %s)\n", strings.Join(missing, ", "))
	}
	return nil
}

// demoClient calls the demo's payoutd API.
type demoClient struct {
	base, token string
	http        *http.Client
}

func (c *demoClient) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber() // cents stay integers
		if err := dec.Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *demoClient) get(ctx context.Context, path string, out any) error {
	status, err := c.do(ctx, http.MethodGet, path, nil, out)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", path, status)
	}
	return err
}

func (c *demoClient) payout(ctx context.Context, user string, cents int64, speed, account string) (map[string]any, int, error) {
	var p map[string]any
	status, err := c.do(ctx, http.MethodPost, "/api/v1/payouts", map[string]any{
		"user_id": user, "amount": map[string]any{"cents": cents, "currency": "USD"}, "speed": speed, "account": account,
	}, &p)
	return p, status, err
}

func (c *demoClient) waitReady(ctx context.Context, served <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-served:
			return fmt.Errorf("payoutd stopped: %w", err)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
		if resp, err := c.http.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New("payoutd did not become ready in 30s")
}

// reconcile starts a run and waits for it to finish.
func (c *demoClient) reconcile(ctx context.Context) (map[string]any, error) {
	var started struct {
		RunID string `json:"run_id"`
	}
	status, err := c.do(ctx, http.MethodPost, "/api/v1/reconcile", nil, &started)
	if err != nil {
		return nil, err
	}
	if status != http.StatusAccepted {
		return nil, fmt.Errorf("start reconciliation: status %d", status)
	}
	for range 600 {
		var run map[string]any
		if err := c.get(ctx, "/api/v1/reconcile/runs/"+started.RunID, &run); err != nil {
			return nil, err
		}
		if run["outcome"] != "running" {
			return run, nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("reconciliation did not finish in 60s")
}
