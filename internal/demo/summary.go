package demo

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Kinds are the finding kinds the scripted traffic must produce.
func Kinds() []string {
	return []string{
		"speed_mismatch", "stuck_payout", "unverified_withdrawer", "wallet_low_balance", "status_mismatch", "missing_locally",
	}
}

// PrintSummary prints the outcome and counts of run and the open findings
// by kind and severity, and names every kind of Kinds that is missing.
func PrintSummary(ctx context.Context, c *Client, run map[string]any, out io.Writer) error {
	fmt.Fprintf(out, "\nreconciliation run %v: %v\n", run["id"], run["outcome"])
	if counts, ok := run["counts"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(counts)) {
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
