package demo

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Kinds are the finding kinds the scripted traffic must produce.
func Kinds() []string {
	return []string{
		"speed_mismatch", "stuck_payout", "unverified_withdrawer", "wallet_low_balance", "status_mismatch", "missing_locally",
	}
}

// PrintSummary prints the outcome and counts of run, payoutd's payouts by
// currency and status, the open findings by kind and severity, and names every kind of Kinds that is missing.
func PrintSummary(ctx context.Context, c *Client, run map[string]any, out io.Writer) error {
	fmt.Fprintf(out, "\nreconciliation run %v: %v\n", run["id"], run["outcome"])
	if counts, ok := run["counts"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			fmt.Fprintf(out, "  %-22s %v\n", k, counts[k])
		}
	}
	if err := printPayouts(ctx, c, out); err != nil {
		return err
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
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		fmt.Fprintf(out, "  %-36s %d\n", k, byKind[k])
	}
	var missing []string
	for _, kind := range Kinds() {
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

// printPayouts prints payoutd's payouts per currency: how many, their
// total in that currency (never added across currencies) and how many are
// in each status.
func printPayouts(ctx context.Context, c *Client, out io.Writer) error {
	type tally struct {
		n, cents int64
		statuses map[string]int
	}
	byCurrency := map[string]*tally{}
	for cursor := ""; ; {
		var page struct {
			Payouts    []payout `json:"payouts"`
			NextCursor string   `json:"next_cursor"`
		}
		if err := c.get(ctx, "/api/v1/payouts?limit=500&cursor="+url.QueryEscape(cursor), &page); err != nil {
			return err
		}
		for _, p := range page.Payouts {
			t := byCurrency[p.Amount.Currency]
			if t == nil {
				t = &tally{statuses: map[string]int{}}
				byCurrency[p.Amount.Currency] = t
			}
			t.n++
			t.cents += p.Amount.Cents
			t.statuses[p.Status]++
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	fmt.Fprintln(out, "\npayouts by currency:")
	for _, cur := range slices.Sorted(maps.Keys(byCurrency)) {
		t := byCurrency[cur]
		var statuses []string
		for _, s := range slices.Sorted(maps.Keys(t.statuses)) {
			statuses = append(statuses, fmt.Sprintf("%s %d", s, t.statuses[s]))
		}
		fmt.Fprintf(out, "  %s %3d  %18s  (%s)\n", cur, t.n, formatMoney(t.cents, cur), strings.Join(statuses, ", "))
	}
	return nil
}
