package reporttest

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/report"
)

// Totals turns per-currency amounts into a map.
func Totals(as []report.Amount) map[string]Sum {
	out := map[string]Sum{}
	for _, a := range as {
		out[a.Currency] = Sum{a.Count, a.Cents}
	}
	return out
}

// CheckSummary requires s, built for [From, To) at now, to be internally
// consistent and to match the fixture to the cent.
func CheckSummary(t testing.TB, fx *Fixture, s *report.Summary, now time.Time) {
	t.Helper()
	require.NoError(t, s.Check())
	require.Equal(t, From.Format(time.DateOnly), s.From)
	require.Equal(t, To.Format(time.DateOnly), s.To)
	require.Equal(t, fx.WantPayouts(), Totals(s.Payouts.Totals), "payouts")
	require.Equal(t, fx.WantFees("user"), Totals(s.Fees.User), "user fees")
	require.Equal(t, fx.WantFees("merchant"), Totals(s.Fees.Merchant), "merchant fees")
	require.Equal(t, fx.WantSpeeds("as_requested"), Totals(s.Speeds.AsRequested), "as requested")
	require.Equal(t, fx.WantSpeeds("nacha_downgrade"), Totals(s.Speeds.NACHADowngrades), "nacha downgrades")
	require.Equal(t, fx.WantSpeeds("other_downgrade"), Totals(s.Speeds.OtherDowngrades), "other downgrades")
	require.Equal(t, fx.WantFailed(), Totals(s.Failures.Failed), "failed")
	require.Equal(t, fx.WantReturns(), Totals(s.Failures.Returns), "returns")
	for _, kind := range []string{"stuck", "unclaimed"} {
		got := map[[2]string]Sum{}
		for _, r := range s.Aging.Rows {
			if r.Kind == kind {
				got[[2]string{r.Bucket, r.Currency}] = Sum{r.Count, r.Cents}
			}
		}
		require.Equal(t, fx.WantAging(kind, now), got, "aging of %s", kind)
	}

	require.Equal(t, "USD", s.Wallet.Currency)
	require.Len(t, s.Wallet.Snapshots, len(fx.Balances))
	var sum WalletStep
	for i, p := range s.Wallet.Snapshots {
		require.Equal(t, fx.Balances[i], p.Balance.Cents, "balance %d", i)
		if i == 0 {
			require.Nil(t, p.Movement)
			continue
		}
		require.NotNil(t, p.Movement)
		got := stepOf(p.Movement)
		require.Equal(t, fx.Wallet[i-1], got, "wallet step %d", i)
		sum = addStep(sum, got)
	}
	require.Equal(t, sum, stepOf(&s.Wallet.Movement))

	debits := map[string]Debits{}
	for _, c := range s.WalletDebits.Totals {
		debits[c.Currency] = debitsOf(c.USDDebits)
	}
	want := fx.WantWalletDebits()
	require.Equal(t, want, debits, "wallet debits per currency")
	require.Equal(t, AllDebits(want), debitsOf(s.WalletDebits.Total), "wallet debits of every currency")

	counts := map[[2]string]int64{}
	for _, c := range s.Findings.Counts {
		counts[[2]string{c.Kind, c.Severity}] = c.Count
	}
	require.Equal(t, fx.Findings, counts)
	require.Len(t, s.Findings.List, int(s.Findings.Total))
}

func debitsOf(d report.USDDebits) Debits {
	return Debits{Count: d.Count, Unpriced: d.Unpriced, Debited: d.Debited.Cents, Refunded: d.Refunded.Cents}
}

func stepOf(m *report.WalletMovement) WalletStep {
	return WalletStep{
		Change: m.Change.Cents, Payouts: m.Payouts.Cents, Fees: m.Fees.Cents, Foreign: m.ForeignPayouts.Cents,
		Refunded: m.Refunded.Cents, Explained: m.Explained.Cents, Unexplained: m.Unexplained.Cents, Unpriced: m.UnpricedPayouts,
	}
}

func addStep(a, b WalletStep) WalletStep {
	return WalletStep{
		Change: a.Change + b.Change, Payouts: a.Payouts + b.Payouts, Fees: a.Fees + b.Fees, Foreign: a.Foreign + b.Foreign,
		Refunded: a.Refunded + b.Refunded, Explained: a.Explained + b.Explained, Unexplained: a.Unexplained + b.Unexplained,
		Unpriced: a.Unpriced + b.Unpriced,
	}
}

// ReadCSV parses a report CSV into one map per row, column to value, and
// checks the header.
func ReadCSV(t testing.TB, b []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	header := recs[0]
	require.Equal(t, "section", header[0])
	rows := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			row[header[i]] = v
		}
		rows = append(rows, row)
	}
	return rows
}

func integer(t testing.TB, row map[string]string, col string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(row[col], 10, 64)
	require.NoError(t, err, "%s of %v is not an integer", col, row)
	return n
}

// CheckCSV requires a report CSV for [From, To) at now to match the fixture:
// the detail rows of each section summed here, and its total rows, both.
func CheckCSV(t testing.TB, fx *Fixture, b []byte, now time.Time) {
	t.Helper()
	rows := ReadCSV(t, b)
	sums := map[string]map[string]Sum{} // section/qualifier -> currency -> sum
	totals := map[string]map[string]Sum{}
	aging := map[string]map[[2]string]Sum{}
	var balances []int64
	var steps []WalletStep
	var walletTotal WalletStep
	debitRows, debitTotals := map[string]Debits{}, map[string]Debits{}
	var debitsAll []Debits
	debits := func(row map[string]string) Debits {
		return Debits{
			Count: integer(t, row, "count"), Unpriced: integer(t, row, "unpriced_count"),
			Debited: integer(t, row, "debited_cents"), Refunded: integer(t, row, "refunded_cents"),
		}
	}
	findingCounts := map[[2]string]int64{}
	var findingsTotal, findings int64
	bump := func(m map[string]map[string]Sum, key, currency string, count, cents int64) {
		if m[key] == nil {
			m[key] = map[string]Sum{}
		}
		s := m[key][currency]
		m[key][currency] = Sum{s.Count + count, s.Cents + cents}
	}
	step := func(row map[string]string) WalletStep {
		return WalletStep{
			Change: integer(t, row, "change_cents"), Payouts: integer(t, row, "payouts_cents"), Fees: integer(t, row, "fees_cents"),
			Foreign: integer(t, row, "foreign_payouts_cents"), Refunded: integer(t, row, "refunded_cents"),
			Explained: integer(t, row, "explained_cents"), Unexplained: integer(t, row, "unexplained_cents"),
			Unpriced: integer(t, row, "unpriced_count"),
		}
	}
	for _, row := range rows {
		sec, cur := row["section"], row["currency"]
		switch sec {
		case report.SectionFrom:
			require.Equal(t, From.Format(time.DateOnly), row["date"])
			continue
		case report.SectionTo:
			require.Equal(t, To.Format(time.DateOnly), row["date"])
			continue
		case report.SectionGenerated:
			at, err := time.Parse(time.RFC3339Nano, row["time"])
			require.NoError(t, err)
			require.True(t, at.Equal(now), "generated at %s, want %s", at, now)
			continue
		case report.SectionWallet:
			_, err := time.Parse(time.RFC3339Nano, row["time"])
			require.NoError(t, err)
			balances = append(balances, integer(t, row, "balance_cents"))
			if row["change_cents"] != "" {
				steps = append(steps, step(row))
			}
			continue
		case report.SectionWalletTotal:
			walletTotal = step(row)
			continue
		case report.SectionWalletDebits:
			_, err := time.Parse(time.DateOnly, row["date"])
			require.NoError(t, err)
			debitRows[cur] = debitRows[cur].plus(debits(row))
			continue
		case report.SectionWalletDebitsTotal:
			debitTotals[cur] = debits(row)
			continue
		case report.SectionWalletDebitsAll:
			debitsAll = append(debitsAll, debits(row))
			continue
		case report.SectionFindingsCount:
			findingCounts[[2]string{row["kind"], row["severity"]}] = integer(t, row, "count")
			continue
		case report.SectionFindingsTotal:
			findingsTotal = integer(t, row, "count")
			continue
		case report.SectionFinding:
			_, err := time.Parse(time.RFC3339Nano, row["time"])
			require.NoError(t, err)
			findings++
			continue
		}
		count, cents := integer(t, row, "count"), integer(t, row, "cents")
		switch sec {
		case report.SectionPayouts:
			_, err := time.Parse(time.DateOnly, row["date"])
			require.NoError(t, err)
			bump(sums, "payouts", cur, count, cents)
		case report.SectionPayoutsTotal:
			bump(totals, "payouts", cur, count, cents)
		case report.SectionFees:
			bump(sums, "fees/"+row["payer"], cur, count, cents)
		case report.SectionFeesTotal:
			bump(totals, "fees/"+row["payer"], cur, count, cents)
		case report.SectionSpeeds:
			bump(sums, "speeds/"+row["class"], cur, count, cents)
		case report.SectionSpeedsTotal:
			bump(totals, "speeds/"+row["class"], cur, count, cents)
		case report.SectionFailures:
			if row["status"] == "failed" {
				bump(sums, "failures/failed", cur, count, cents)
			}
			if rs := row["return_status"]; rs == "pending_return" || rs == "return_completed" {
				bump(sums, "failures/returns", cur, count, cents)
			}
		case report.SectionFailuresTotal:
			bump(totals, "failures/"+row["class"], cur, count, cents)
		case report.SectionAging:
			if aging[row["kind"]] == nil {
				aging[row["kind"]] = map[[2]string]Sum{}
			}
			aging[row["kind"]][[2]string{row["bucket"], cur}] = Sum{count, cents}
			bump(sums, "aging/"+row["kind"], cur, count, cents)
		case report.SectionAgingTotal:
			bump(totals, "aging/"+row["kind"], cur, count, cents)
		default:
			t.Fatalf("unknown section %q", sec)
		}
	}
	want := map[string]map[string]Sum{
		"payouts":                fx.WantPayouts(),
		"fees/user":              fx.WantFees("user"),
		"fees/merchant":          fx.WantFees("merchant"),
		"speeds/as_requested":    fx.WantSpeeds("as_requested"),
		"speeds/nacha_downgrade": fx.WantSpeeds("nacha_downgrade"),
		"speeds/other_downgrade": fx.WantSpeeds("other_downgrade"),
		"failures/failed":        fx.WantFailed(),
		"failures/returns":       fx.WantReturns(),
		"aging/stuck":            sumAging(fx.WantAging("stuck", now)),
		"aging/unclaimed":        sumAging(fx.WantAging("unclaimed", now)),
	}
	for key, w := range want {
		if len(w) == 0 {
			w = nil
		}
		require.Equal(t, w, sums[key], "csv rows of %s", key)
		require.Equal(t, w, totals[key], "csv totals of %s", key)
	}
	for _, kind := range []string{"stuck", "unclaimed"} {
		w := fx.WantAging(kind, now)
		if len(w) == 0 {
			w = nil
		}
		require.Equal(t, w, aging[kind], "csv aging of %s", kind)
	}
	require.Equal(t, fx.Balances, balances)
	require.Equal(t, fx.Wallet, steps)
	var sum WalletStep
	for _, s := range steps {
		sum = addStep(sum, s)
	}
	require.Equal(t, sum, walletTotal)
	wantDebits := fx.WantWalletDebits()
	require.Equal(t, wantDebits, debitRows, "csv rows of wallet debits")
	require.Equal(t, wantDebits, debitTotals, "csv totals of wallet debits")
	require.Equal(t, []Debits{AllDebits(wantDebits)}, debitsAll, "csv wallet debits of every currency")
	require.Equal(t, fx.Findings, findingCounts)
	require.Equal(t, findingsTotal, findings)
}

func sumAging(m map[[2]string]Sum) map[string]Sum {
	out := map[string]Sum{}
	for k, s := range m {
		t := out[k[1]]
		out[k[1]] = Sum{t.Count + s.Count, t.Cents + s.Cents}
	}
	return out
}
