package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// simFlags are payoutd sim's own flags.
type simFlags struct {
	listen, apiKey, webhookURL, webhookKey string
	seed, balance                          int64
	realtime                               bool
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8090", "address the emulator serves on")
	fs.StringVar(&f.apiKey, "api-key", "sim-api-key", "API key the emulator requires in Authorization")
	fs.StringVar(&f.webhookURL, "webhook-url", "", "where to deliver webhooks (e.g. http://127.0.0.1:8080/webhooks/coinflow); empty records them only")
	fs.StringVar(&f.webhookKey, "webhook-key", "sim-webhook-key", "Webhook Validation Key the emulator signs with")
	fs.Int64Var(&f.seed, "seed", 1, "seed for ids and signatures (same seed, same ids)")
	fs.Int64Var(&f.balance, "balance-cents", 1_000_000_00, "starting wallet balance in USD cents")
	fs.BoolVar(&f.realtime, "realtime", true, "move the emulator clock with the wall clock (otherwise only POST /_sim/advance moves it)")
}

// simCommand serves the Coinflow emulator on its own.
func simCommand(fs *flag.FlagSet) action {
	var f simFlags
	f.register(fs)
	return func(ctx context.Context, e env) error {
		return sim(ctx, f, e.log.WithField("component", "sim"), e.stdout)
	}
}

// simWithdrawers are the fixtures' three users, so that the emulator can
// be paid out to at once: approved, pending verification, rejected and
// blocked.
var simWithdrawers = []coinflowtest.WithdrawerSpec{
	{UserID: "u-1001", Verification: "approved", BankToken: "bnk_aBL5aQhuRYNCfiFogfAa5zha", CardToken: "crd_h8MKQm17EsCQcsH1g8BwD6op"},
	{UserID: "u-1002", Verification: "pending", Country: "GB"},
	{UserID: "u-1003", Verification: "rejected", Blocked: true},
}

// sim serves the Coinflow emulator until ctx ends.
func sim(ctx context.Context, f simFlags, log *logrus.Entry, stdout io.Writer) error {
	if f.webhookURL != "" && f.webhookKey == "" {
		return usageError{"-webhook-key is required with -webhook-url; " + usage()}
	}
	emu := coinflowtest.New(coinflowtest.Options{
		APIKey: f.apiKey, WebhookURL: f.webhookURL, WebhookKey: f.webhookKey, Seed: f.seed,
		Start: time.Now().UTC(), InitialBalanceCents: f.balance,
	})
	defer emu.Close()
	for _, w := range simWithdrawers {
		if _, err := emu.AddWithdrawer(w); err != nil {
			return fmt.Errorf("seed withdrawer %s: %w", w.UserID, err)
		}
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if f.realtime {
		go followWallClock(ctx, emu)
	}
	fmt.Fprintf(stdout, "Coinflow emulator on http://%s (API key in Authorization; control surface under /_sim/)\n", ln.Addr())
	fmt.Fprintf(stdout, "  point payoutd at it: PAYOUTD_COINFLOW_BASE_URL=http://%s PAYOUTD_COINFLOW_API_KEY=<api key>\n", ln.Addr())
	fmt.Fprintf(stdout, "  withdrawers: u-1001 approved (bank %s), u-1002 pending, u-1003 rejected and blocked\n", simWithdrawers[0].BankToken)
	log.WithFields(logrus.Fields{"addr": ln.Addr().String(), "webhook_url_set": f.webhookURL != ""}).Info("emulator listening")

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("emulator server: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// followWallClock advances the emulator's clock with real time, so that
// payouts progress through their lifecycle as they would at Coinflow.
func followWallClock(ctx context.Context, emu *coinflowtest.Emulator) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if d := now.UTC().Sub(emu.Now()); d > 0 {
				emu.Advance(d)
			}
		}
	}
}
