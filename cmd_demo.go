package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/demo"
)

// demoCommand shows payoutd at work on its own: see runDemo.
func demoCommand(*flag.FlagSet) action {
	return func(ctx context.Context, e env) error {
		if !e.explicitConfig && e.getenv("PAYOUTD_LOG_LEVEL") == "" {
			e.log.SetLevel(logrus.ErrorLevel) // the demo prints its own summary
		}
		return runDemo(ctx, e.cfg, e.log, e.stdout)
	}
}

// runDemo runs the emulator, payoutd on a fresh embedded database and
// a few minutes of payout traffic compressed into seconds, reconciles,
// prints a summary and serves until ctx ends.
func runDemo(ctx context.Context, cfg Config, logger *logrus.Logger, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "payoutd-demo-")
	if err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	defer os.RemoveAll(dir)
	token := randomHex(12)
	webhookKey := randomHex(16)
	apiKey := "demo-" + randomHex(8)

	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the emulator: %w", err)
	}
	emu := coinflowtest.New(coinflowtest.Options{
		APIKey: apiKey, WebhookKey: webhookKey, Start: time.Now().UTC(), InitialBalanceCents: 5_000_000_00,
		// A US payout's lifecycle takes seconds instead of hours or days;
		// IBAN (a day) and PIX (minutes) ones stay pending through the run.
		Lifecycle:    coinflowtest.Lifecycle{"asap": 2 * time.Second, "card": 2 * time.Second, "same_day": 4 * time.Second, "standard": 6 * time.Second},
		WebhookRetry: coinflowtest.RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second, GiveUpAfter: time.Minute},
		// Verification links point at the emulator's hosted page.
		BaseURL: "http://" + emuLn.Addr().String(),
	})
	defer emu.Close()
	emuSrv := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
	go emuSrv.Serve(emuLn) //nolint:errcheck // closed at the end
	defer emuSrv.Close()

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

	c := demo.NewClient("http://"+listen, token, &http.Client{Timeout: 30 * time.Second})
	if err := c.WaitReady(ctx, served); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "payoutd demo: Coinflow emulator on %s, payoutd on http://%s, database %s\n", cfg.Coinflow.BaseURL, listen, dir)
	if err := demo.Play(ctx, c, emu, demo.Config{StuckGrace: cfg.Reconcile.StuckGrace.D()}, stdout); err != nil {
		return err
	}
	// The script moved the emulator's clock itself; from now on it follows
	// the wall clock, for payouts made from the dashboard or the API.
	go followWallClock(ctx, emu)
	run, err := c.Reconcile(ctx)
	if err != nil {
		return err
	}
	if err := demo.PrintSummary(ctx, c, run, stdout); err != nil {
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
