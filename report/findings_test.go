package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/report/reporttest"
)

// The report lists the oldest MaxListedFindings unresolved findings, counts
// them all, and says when the list is cut short (JSON: list_truncated;
// CSV: findings_total beside fewer finding rows).
func TestFindingsAreCountedAndTheOldestListed(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		kinds := []models.FindingKind{models.KindStuckPayout, models.KindSpeedMismatch, models.KindAmountMismatch}
		sevs := []models.Severity{models.SeverityError, models.SeverityWarning}
		var unresolved []*models.Finding
		for i := range 140 {
			clock.Set(reporttest.Now.Add(-time.Duration(140-i) * time.Minute))
			f, _, err := store.FindingRaise(ctx, models.Finding{Kind: kinds[i%3], Subject: fmt.Sprintf("s-%03d", i), Severity: sevs[i%2]})
			require.NoError(t, err)
			if i%10 == 3 {
				_, err := store.FindingResolve(ctx, f.Kind, f.Subject)
				require.NoError(t, err)
				continue
			}
			unresolved = append(unresolved, f)
		}
		_, err := store.FindingAcknowledge(ctx, unresolved[0].ID, "finance", "seen")
		require.NoError(t, err, "acknowledged, it is still unresolved")
		clock.Set(reporttest.Now)
		counts := func(fs []*models.Finding) map[[2]string]int64 {
			out := map[[2]string]int64{}
			for _, f := range fs {
				out[[2]string{string(f.Kind), string(f.Severity)}]++
			}
			return out
		}
		requireFindings := func(s *report.Summary, truncated bool) {
			t.Helper()
			require.NoError(t, s.Check())
			require.Equal(t, truncated, s.Findings.ListTruncated)
			require.EqualValues(t, len(unresolved), s.Findings.Total)
			got := map[[2]string]int64{}
			for _, c := range s.Findings.Counts {
				got[[2]string{c.Kind, c.Severity}] = c.Count
			}
			require.Equal(t, counts(unresolved), got)
			require.Len(t, s.Findings.List, min(len(unresolved), report.MaxListedFindings))
			for i, f := range s.Findings.List {
				require.Equal(t, unresolved[i].ID, f.ID, "oldest first: %d", i)
			}
		}

		s := build(t, store, reporttest.From, reporttest.To)
		require.Len(t, unresolved, 126)
		requireFindings(s, true)

		raw, err := json.Marshal(s)
		require.NoError(t, err)
		var wire struct {
			Findings struct {
				Total         int64             `json:"total"`
				List          []json.RawMessage `json:"list"`
				ListTruncated bool              `json:"list_truncated"`
			} `json:"findings"`
		}
		require.NoError(t, json.Unmarshal(raw, &wire))
		require.Equal(t, int64(126), wire.Findings.Total)
		require.Len(t, wire.Findings.List, report.MaxListedFindings)
		require.True(t, wire.Findings.ListTruncated)

		var buf bytes.Buffer
		require.NoError(t, report.WriteCSV(&buf, s))
		var listed int
		for _, row := range reporttest.ReadCSV(t, buf.Bytes()) {
			switch row["section"] {
			case report.SectionFinding:
				listed++
			case report.SectionFindingsTotal:
				require.Equal(t, "126", row["count"])
			}
		}
		require.Equal(t, report.MaxListedFindings, listed)

		// Check holds a cut list to its length and its flag.
		s.Findings.List = s.Findings.List[:report.MaxListedFindings-1]
		require.ErrorContains(t, s.Check(), "findings: list of 99 cut short")
		s.Findings.List, s.Findings.ListTruncated = s.Findings.List[:report.MaxListedFindings-1], false
		require.ErrorContains(t, s.Check(), "findings: total 126, list has 99")

		// As many as the list holds: complete, not cut.
		for _, f := range unresolved[report.MaxListedFindings:] {
			_, err := store.FindingResolve(ctx, f.Kind, f.Subject)
			require.NoError(t, err)
		}
		unresolved = unresolved[:report.MaxListedFindings]
		requireFindings(build(t, store, reporttest.From, reporttest.To), false)
	})
}
