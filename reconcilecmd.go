package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
	"github.com/payoutd/payoutd/reconcile"
)

// exitError carries a specific exit code (1 partial run, 3 findings).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func coinflowClient(cfg Config) (*coinflow.Client, error) {
	return coinflow.New(coinflow.Config{BaseURL: cfg.Coinflow.BaseURL, APIKey: cfg.Coinflow.APIKey.Value()})
}

func newReconciler(cfg Config, store *models.Store, cf *coinflow.Client, logger *logrus.Logger, m *metrics.Metrics) *reconcile.Reconciler {
	r := cfg.Reconcile
	return reconcile.New(store, cf, logger.WithField("component", "reconcile"), m.NewReconcile(), reconcile.Config{
		Lookback: r.Lookback.D(), MissingGrace: r.MissingGrace.D(), PageSize: r.PageSize, Timeout: r.Timeout.D(),
		Windows:    rail.Windows{Instant: r.InstantWindow.D(), StandardBusinessDays: r.StandardBusinessDays, OtherBusinessDays: r.OtherBusinessDays},
		StuckGrace: r.StuckGrace.D(), LowBalanceCents: cfg.Wallet.LowBalanceCents, DriftToleranceCents: cfg.Wallet.DriftToleranceCents,
	})
}

// holderName names this process in job leases.
func holderName() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// reconcileOnce runs every check once, prints a summary and maps the
// outcome to the exit code of SPEC: 0 completed, 1 partial or failed, 3 with
// --fail-on-findings when open error findings remain.
func reconcileOnce(ctx context.Context, cfg Config, logger *logrus.Logger, stdout io.Writer, failOnFindings bool) error {
	cf, err := coinflowClient(cfg)
	if err != nil {
		if errors.Is(err, coinflow.ErrNoAPIKey) {
			return errors.New("reconcile needs the Coinflow API key: set coinflow.api_key or PAYOUTD_COINFLOW_API_KEY")
		}
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}
	rec := newReconciler(cfg, store, cf, logger, metrics.New())
	run, err := rec.RunOnce(ctx, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reconciliation run %s: %s\n", run.ID, run.Outcome)
	printDetails(stdout, "  ", run.Counts)
	if len(run.Problems) > 0 {
		fmt.Fprintln(stdout, "  problems:")
		printDetails(stdout, "    ", run.Problems)
	}
	open, err := store.FindingCountOpen(ctx)
	if err != nil {
		return err
	}
	bySeverity, err := store.FindingCountOpenBySeverity(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "  open findings:")
	kinds := make([]string, 0, len(open))
	for k := range open {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(stdout, "    %-22s %d\n", k, open[models.FindingKind(k)])
	}
	fmt.Fprintf(stdout, "    by severity: error %d, warning %d, info %d\n",
		bySeverity[models.SeverityError], bySeverity[models.SeverityWarning], bySeverity[models.SeverityInfo])
	if run.Outcome != models.RunOK {
		return exitError{code: 1, msg: "reconciliation run ended " + run.Outcome}
	}
	if failOnFindings && bySeverity[models.SeverityError] > 0 {
		return exitError{code: 3, msg: fmt.Sprintf("%d open findings of severity error", bySeverity[models.SeverityError])}
	}
	return nil
}

func printDetails(w io.Writer, indent string, d models.Details) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s: %v\n", indent, k, d[k])
	}
}
