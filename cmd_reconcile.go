package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// reconcileCommand runs every check once (--once); the daemon runs them
// on its schedule.
func reconcileCommand(fs *flag.FlagSet) action {
	once := fs.Bool("once", false, "run every check once and exit")
	failOnFindings := fs.Bool("fail-on-findings", false, "exit 3 when open findings of severity error remain")
	return func(ctx context.Context, e env) error {
		if !*once {
			return usageError{"reconcile needs --once (the daemon runs it on its schedule); " + usage()}
		}
		return reconcileOnce(ctx, e.cfg, e.log, e.stdout, *failOnFindings)
	}
}

// reconcileOnce runs every check once, prints a summary and maps the
// outcome to the exit code of SPEC: 0 completed, 1 partial or failed, 3 with
// --fail-on-findings when open error findings remain.
func reconcileOnce(ctx context.Context, cfg Config, logger *logrus.Logger, stdout io.Writer, failOnFindings bool) error {
	cf, err := coinflowClient(cfg, nil)
	if err != nil {
		if errors.Is(err, coinflow.ErrNoAPIKey) {
			return errors.New("reconcile needs the Coinflow API key: set coinflow.api_key or PAYOUTD_COINFLOW_API_KEY")
		}
		return err
	}
	store, _, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	rec, err := newReconciler(cfg, store, cf, logger, metrics.New(), nil)
	if err != nil {
		return err
	}
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
	for _, k := range slices.Sorted(maps.Keys(open)) {
		fmt.Fprintf(stdout, "    %-22s %d\n", k, open[k])
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
	for _, k := range slices.Sorted(maps.Keys(d)) {
		fmt.Fprintf(w, "%s%s: %v\n", indent, k, d[k])
	}
}
