package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

// overviewDays is the window of the overview's charts and totals, in UTC
// days ending today.
const overviewDays = 30

// maxWalletPoints bounds the wallet line: a run every five minutes gives
// thousands of snapshots a month, more than a chart can show.
const maxWalletPoints = 240

// chartCurrency is the currency the volume chart and totals are in: the
// wallet's. Payouts in another currency are counted and named apart.
const chartCurrency = "USD"

// statusOrder stacks the volume bars from settled to open to failed.
var statusOrder = []models.PayoutStatus{
	models.StatusCompleted, models.StatusPending, models.StatusInReview,
	models.StatusRequested, models.StatusUnknown, models.StatusFailed,
}

type overviewData struct {
	Since, Until  time.Time
	Days          int
	PayoutCount   int64
	Volume        models.Money
	Completed     models.Money
	FailedCount   int64
	OtherCurrency int64 // payouts in the window not in chartCurrency
	InFlight      models.Money
	// OpenFindings are the open findings not snoozed, the ones that need
	// someone: Errors, Warnings and Infos add up to it.
	OpenFindings int64
	Errors       int64
	Warnings     int64
	Infos        int64
	// Acknowledged and Snoozed are the other unresolved findings, counted
	// apart.
	Acknowledged  int64
	Snoozed       int64
	Wallet        *models.WalletSnapshot
	WalletBalance models.Money
	LastRun       *models.ReconcileRun
	Charts        charts
}

// charts is the JSON that assets/app.js draws. Money stays in integer
// cents; the script formats it.
type charts struct {
	Currency string      `json:"currency"`
	Volume   volumeChart `json:"volume"`
	Findings countChart  `json:"findings"`
	Wallet   walletChart `json:"wallet"`
}

type volumeChart struct {
	Labels []string       `json:"labels"`
	Series []volumeSeries `json:"series"`
}

type volumeSeries struct {
	Status string  `json:"status"`
	Cents  []int64 `json:"cents"`
}

// countChart is the open findings by kind, most first: Counts are the
// totals, Series the same split by severity, so that each bar is coloured
// by what it holds.
type countChart struct {
	Labels []string         `json:"labels"`
	Counts []int64          `json:"counts"`
	Series []severitySeries `json:"series"`
}

type severitySeries struct {
	Severity string  `json:"severity"`
	Counts   []int64 `json:"counts"`
}

type walletChart struct {
	Labels []string `json:"labels"`
	Cents  []int64  `json:"cents"`
}

func (h *handler) overview(c *gin.Context) {
	d, err := h.loadOverview(c.Request.Context())
	if err != nil {
		h.storeError(c, err, "data", "")
		return
	}
	h.render(c, http.StatusOK, "overview", view{Title: "Overview", Active: "overview", Data: d})
}

func (h *handler) loadOverview(ctx context.Context) (*overviewData, error) {
	now := h.now().UTC()
	today := now.Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(overviewDays - 1))
	d := &overviewData{
		Since: since, Until: now, Days: overviewDays,
		Volume: models.Money{Currency: chartCurrency}, Completed: models.Money{Currency: chartCurrency},
		Charts: charts{Currency: chartCurrency},
	}
	if err := h.loadVolume(ctx, d, since); err != nil {
		return nil, err
	}

	inFlight, err := h.store.PayoutSumInFlight(ctx)
	if err != nil {
		return nil, err
	}
	// The USD cost of what is priced: foreign payouts Coinflow has not
	// priced yet (inFlight.Unpriced) are not in it.
	d.InFlight = models.Money{Cents: inFlight.Cents, Currency: chartCurrency}

	if err := h.loadFindings(ctx, d); err != nil {
		return nil, err
	}

	if err := h.loadWallet(ctx, d, since, now); err != nil {
		return nil, err
	}

	runs, _, err := h.store.RunList(ctx, models.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		d.LastRun = &runs[0]
	}
	return d, nil
}

// loadFindings counts the unresolved findings in one read: the open ones
// not snoozed by severity and by kind (most first) for the card and the
// chart, and the acknowledged and snoozed ones apart.
func (h *handler) loadFindings(ctx context.Context, d *overviewData) error {
	tally, err := h.store.FindingTallyUnresolved(ctx)
	if err != nil {
		return err
	}
	byKind := map[string]map[models.Severity]int64{}
	total := map[string]int64{}
	for _, r := range tally {
		d.Snoozed += r.Snoozed
		if r.Status != models.FindingOpen {
			d.Acknowledged += r.Awake
			continue
		}
		if r.Awake == 0 {
			continue
		}
		d.OpenFindings += r.Awake
		switch r.Severity {
		case models.SeverityError:
			d.Errors += r.Awake
		case models.SeverityWarning:
			d.Warnings += r.Awake
		default:
			d.Infos += r.Awake
		}
		k := string(r.Kind)
		if byKind[k] == nil {
			byKind[k] = map[models.Severity]int64{}
		}
		byKind[k][r.Severity] += r.Awake
		total[k] += r.Awake
	}
	kinds := make([]string, 0, len(total))
	for k := range total {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if total[kinds[i]] != total[kinds[j]] {
			return total[kinds[i]] > total[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	chart := countChart{Labels: kinds, Counts: make([]int64, len(kinds))}
	for i, k := range kinds {
		chart.Counts[i] = total[k]
	}
	for _, sev := range severities {
		series := severitySeries{Severity: string(sev), Counts: make([]int64, len(kinds))}
		for i, k := range kinds {
			series.Counts[i] = byKind[k][sev]
		}
		chart.Series = append(chart.Series, series)
	}
	d.Charts.Findings = chart
	return nil
}

// loadVolume sums the payouts created in the window by UTC day and status
// from the database's groups, so a page load reads a few hundred rows
// whatever the volume.
func (h *handler) loadVolume(ctx context.Context, d *overviewData, since time.Time) error {
	perStatus := map[models.PayoutStatus][]int64{}
	for _, s := range statusOrder {
		perStatus[s] = make([]int64, overviewDays)
	}
	// Grouped by day, status, speed and currency, as the finance report
	// groups them.
	rows, err := h.store.ReportPayouts(ctx, since, since.AddDate(0, 0, overviewDays))
	if err != nil {
		return fmt.Errorf("sum payout volume: %w", err)
	}
	for _, r := range rows {
		d.PayoutCount += r.Count
		status := models.PayoutStatus(r.Status)
		if status == models.StatusFailed {
			d.FailedCount += r.Count
		}
		if r.Currency != chartCurrency {
			d.OtherCurrency += r.Count
			continue
		}
		day, err := time.Parse(time.DateOnly, r.Day)
		if err != nil {
			return fmt.Errorf("sum payout volume: day %q: %w", r.Day, err)
		}
		i := int(day.Sub(since) / (24 * time.Hour))
		cents, ok := perStatus[status]
		if !ok || i < 0 || i >= overviewDays {
			continue
		}
		// Each sum fits (the store checks), but not necessarily their total.
		if cents[i], err = models.AddCents(cents[i], r.Cents); err != nil {
			return fmt.Errorf("sum payout volume of %s: total %w", r.Day, err)
		}
		if d.Volume.Cents, err = models.AddCents(d.Volume.Cents, r.Cents); err != nil {
			return fmt.Errorf("sum payout volume: total %w", err)
		}
		if status == models.StatusCompleted {
			if d.Completed.Cents, err = models.AddCents(d.Completed.Cents, r.Cents); err != nil {
				return fmt.Errorf("sum completed payouts: total %w", err)
			}
		}
	}
	d.Charts.Volume.Labels = make([]string, overviewDays)
	for i := range overviewDays {
		d.Charts.Volume.Labels[i] = since.AddDate(0, 0, i).Format("Jan 2")
	}
	for _, s := range statusOrder {
		d.Charts.Volume.Series = append(d.Charts.Volume.Series, volumeSeries{Status: string(s), Cents: perStatus[s]})
	}
	return nil
}

// loadWallet takes the balance snapshots of the window, thinned to at most
// maxWalletPoints (always keeping the newest), and the latest balance even
// when it is older than the window.
func (h *handler) loadWallet(ctx context.Context, d *overviewData, since, now time.Time) error {
	snaps, err := h.store.WalletSnapshotList(ctx, since, now.Add(time.Second))
	if err != nil {
		return err
	}
	step := (len(snaps) + maxWalletPoints - 1) / maxWalletPoints
	for i := range snaps {
		if step > 1 && i%step != 0 && i != len(snaps)-1 {
			continue
		}
		d.Charts.Wallet.Labels = append(d.Charts.Wallet.Labels, snaps[i].TakenAt.UTC().Format("Jan 2 15:04"))
		d.Charts.Wallet.Cents = append(d.Charts.Wallet.Cents, snaps[i].BalanceCents)
	}
	latest, err := h.store.WalletSnapshotLatestBefore(ctx, now.Add(time.Second))
	switch {
	case errors.Is(err, models.ErrNotFound):
	case err != nil:
		return err
	default:
		d.Wallet = latest
		d.WalletBalance = models.Money{Cents: latest.BalanceCents, Currency: chartCurrency}
	}
	return nil
}
