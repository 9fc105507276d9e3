package report_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/report/reporttest"
)

type testBundle struct {
	store *models.Store
	clock *dbtest.Clock
	fx    *reporttest.Fixture
}

// eachSeeded runs fn on both databases, each seeded with the fixture.
func eachSeeded(t *testing.T, fn func(t *testing.T, b testBundle)) {
	t.Helper()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fx := reporttest.Seed(t, store, clock)
		fn(t, testBundle{store: store, clock: clock, fx: fx})
	})
}

// build builds the report for [from, to) and requires it to build and to
// pass its own consistency check.
func build(t *testing.T, store *models.Store, from, to time.Time) *report.Summary {
	t.Helper()
	s, err := report.Build(t.Context(), store, from, to)
	require.NoError(t, err)
	require.NoError(t, s.Check())
	return s
}

func TestBuildMatchesThePayoutsCreated(t *testing.T) {
	t.Parallel()
	eachSeeded(t, func(t *testing.T, b testBundle) {
		s := build(t, b.store, reporttest.From, reporttest.To)
		require.True(t, s.GeneratedAt.Equal(reporttest.Now))
		reporttest.CheckSummary(t, b.fx, s, reporttest.Now)

		// The same numbers worked out by hand, so that the fixture's own
		// arithmetic is checked too.
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(8, 250_337_234), "EUR": sum(2, 200_120_000), "BRL": sum(1, 500_000)},
			reporttest.Totals(s.Payouts.Totals))
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(1, 150_000_000)}, reporttest.Totals(s.Speeds.NACHADowngrades),
			"only same_day above the limit in USD is NACHA")
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(2, 100_005_000), "EUR": sum(1, 200_000_000)}, reporttest.Totals(s.Speeds.OtherDowngrades),
			"exactly the limit, and EUR above it, are other downgrades")
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(2, 150)}, reporttest.Totals(s.Fees.User))
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(2, 5250), "EUR": sum(1, 700)}, reporttest.Totals(s.Fees.Merchant),
			"the failed EUR payout's fee is left out")
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(2, 73_000), "EUR": sum(1, 120_000)}, reporttest.Totals(s.Failures.Failed))
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(1, 70_000), "EUR": sum(1, 120_000)}, reporttest.Totals(s.Failures.Returns))
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(3, 150_001_488)}, reporttest.Totals(s.Aging.Stuck),
			"the resolved stuck finding is left out")
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(1, 8000), "EUR": sum(1, 4321)}, reporttest.Totals(s.Aging.Unclaimed))
		require.EqualValues(t, 5455, s.Wallet.Movement.Unexplained.Cents)
		debits := map[string]reporttest.Debits{}
		for _, c := range s.WalletDebits.Totals {
			debits[c.Currency] = reporttest.Debits{Count: c.Count, Unpriced: c.Unpriced, Debited: c.Debited.Cents, Refunded: c.Refunded.Cents}
		}
		require.Equal(t, map[string]reporttest.Debits{
			// p1, p2, p3, p4, p6 (returned) and p7 by amount and merchant fee.
			"USD": {Count: 6, Debited: 250_338_250, Refunded: 70_000},
			// p9 by its USD debit; p5 not priced.
			"EUR": {Count: 2, Unpriced: 1, Debited: 217_000_760},
			"BRL": {Count: 1, Debited: 90_150},
		}, debits, "p0 and p10 lie outside the range, p8 and p13 never reached Coinflow")
		total := s.WalletDebits.Total
		require.Equal(t, reporttest.Debits{Count: 9, Unpriced: 1, Debited: 467_429_160, Refunded: 70_000},
			reporttest.Debits{Count: total.Count, Unpriced: total.Unpriced, Debited: total.Debited.Cents, Refunded: total.Refunded.Cents})
		require.EqualValues(t, 9, s.Findings.Total)
	})
}

func TestBuildDaysAreUTCDatesWithToExcluded(t *testing.T) {
	t.Parallel()
	eachSeeded(t, func(t *testing.T, b testBundle) {
		s := build(t, b.store, reporttest.From, reporttest.To)
		perDay := map[[2]string]reporttest.Sum{}
		for _, r := range s.Payouts.Rows {
			k := [2]string{r.Date, r.Currency}
			perDay[k] = reporttest.Sum{Count: perDay[k].Count + r.Count, Cents: perDay[k].Cents + r.Cents}
		}
		require.Equal(t, map[[2]string]reporttest.Sum{
			// p1, p2 and p3 at 23:59:59.999999; p0 a microsecond earlier is out.
			{"2025-06-01", "USD"}: sum(3, 150_255_000),
			{"2025-06-01", "EUR"}: sum(1, 200_000_000),
			// p4 at midnight belongs to June 2; p10 at the next midnight is out.
			{"2025-06-02", "USD"}: sum(5, 100_082_234),
			{"2025-06-02", "EUR"}: sum(1, 120_000),
			{"2025-06-02", "BRL"}: sum(1, 500_000),
		}, perDay)

		one := build(t, b.store, reporttest.From, reporttest.From.AddDate(0, 0, 1))
		require.Equal(t, "2025-06-02", one.To)
		require.Equal(t, map[string]reporttest.Sum{"USD": sum(3, 150_255_000), "EUR": sum(1, 200_000_000)}, reporttest.Totals(one.Payouts.Totals))
	})
}

func TestBuildEmptyRange(t *testing.T) {
	t.Parallel()
	eachSeeded(t, func(t *testing.T, b testBundle) {
		from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		s := build(t, b.store, from, from.AddDate(0, 0, 1))
		require.Empty(t, s.Payouts.Rows)
		require.Empty(t, s.Payouts.Totals)
		require.Empty(t, s.Fees.Rows)
		require.Empty(t, s.Speeds.Rows)
		require.Empty(t, s.Failures.Rows)
		require.Empty(t, s.Wallet.Snapshots)
		require.Zero(t, s.Wallet.Movement.Change.Cents)
		// Aging and findings are as of now, whatever the range.
		require.Equal(t, reporttest.Totals(s.Aging.Stuck), map[string]reporttest.Sum{"USD": sum(3, 150_001_488)})
		require.EqualValues(t, 9, s.Findings.Total)

		// Empty lists are [] in JSON, not null.
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &m))
		require.JSONEq(t, `{"rows":[],"totals":[]}`, string(m["payouts"]))
		require.Contains(t, string(m["wallet"]), `"snapshots":[]`)
		require.JSONEq(t, `{"rows":[],"totals":[],"total":{"count":0,"unpriced":0,
			"debited":{"cents":0,"currency":"USD","formatted":"0.00 USD"},
			"refunded":{"cents":0,"currency":"USD","formatted":"0.00 USD"}}}`, string(m["wallet_debits"]))

		var csvBuf bytes.Buffer
		require.NoError(t, report.WriteCSV(&csvBuf, s))
		for _, row := range reporttest.ReadCSV(t, csvBuf.Bytes()) {
			require.NotEqual(t, report.SectionPayouts, row["section"])
		}
	})
}

func TestBuildOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		s := build(t, store, reporttest.From, reporttest.To)
		require.Empty(t, s.Payouts.Totals)
		require.Empty(t, s.Aging.Rows)
		require.Zero(t, s.Findings.Total)
		require.Empty(t, s.Findings.List)
	})
}

func TestCSVMatchesThePayoutsCreated(t *testing.T) {
	t.Parallel()
	eachSeeded(t, func(t *testing.T, b testBundle) {
		s := build(t, b.store, reporttest.From, reporttest.To)
		var buf bytes.Buffer
		require.NoError(t, report.WriteCSV(&buf, s))
		reporttest.CheckCSV(t, b.fx, buf.Bytes(), reporttest.Now)
	})
}

// TestJSONHasCentsAndFormattedMoney checks the wire form: integer cents,
// and the formatted string beside them, never a float.
func TestJSONHasCentsAndFormattedMoney(t *testing.T) {
	t.Parallel()
	eachSeeded(t, func(t *testing.T, b testBundle) {
		s := build(t, b.store, reporttest.From, reporttest.To)
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		var v struct {
			From, To    string
			GeneratedAt string `json:"generated_at"`
			Payouts     struct {
				Totals []map[string]json.RawMessage
			}
			WalletDebits struct {
				Totals []json.RawMessage
				Total  json.RawMessage
			} `json:"wallet_debits"`
			Wallet struct {
				Movement struct {
					Unexplained     map[string]json.RawMessage
					ForeignPayouts  map[string]json.RawMessage `json:"foreign_payouts"`
					UnpricedPayouts json.RawMessage            `json:"unpriced_payouts"`
				}
			}
		}
		require.NoError(t, json.Unmarshal(raw, &v))
		require.Equal(t, "2025-06-01", v.From)
		require.Equal(t, "2025-06-03", v.To)
		require.Equal(t, "2025-06-04T10:00:00Z", v.GeneratedAt)
		require.Len(t, v.Payouts.Totals, 3)
		require.JSONEq(t, `{"currency":"BRL","count":1,"cents":500000,"formatted":"5,000.00 BRL"}`, mustJSON(t, v.Payouts.Totals[0]))
		require.JSONEq(t, `{"currency":"EUR","count":2,"cents":200120000,"formatted":"2,001,200.00 EUR"}`, mustJSON(t, v.Payouts.Totals[1]))
		require.JSONEq(t, `{"currency":"USD","count":8,"cents":250337234,"formatted":"2,503,372.34 USD"}`, mustJSON(t, v.Payouts.Totals[2]))
		require.JSONEq(t, `{"cents":5455,"currency":"USD","formatted":"54.55 USD"}`, mustJSON(t, v.Wallet.Movement.Unexplained))
		// p9 (EUR) and p14 (BRL) by their USD debits; p5 (EUR) not priced.
		require.JSONEq(t, `{"cents":217090910,"currency":"USD","formatted":"2,170,909.10 USD"}`, mustJSON(t, v.Wallet.Movement.ForeignPayouts))
		require.JSONEq(t, `1`, string(v.Wallet.Movement.UnpricedPayouts))
		// The payouts' currency beside USD money.
		require.Len(t, v.WalletDebits.Totals, 3)
		require.JSONEq(t, `{"currency":"EUR","count":2,"unpriced":1,
			"debited":{"cents":217000760,"currency":"USD","formatted":"2,170,007.60 USD"},
			"refunded":{"cents":0,"currency":"USD","formatted":"0.00 USD"}}`, string(v.WalletDebits.Totals[1]))
		require.JSONEq(t, `{"count":9,"unpriced":1,
			"debited":{"cents":467429160,"currency":"USD","formatted":"4,674,291.60 USD"},
			"refunded":{"cents":70000,"currency":"USD","formatted":"700.00 USD"}}`, string(v.WalletDebits.Total))

		var back report.Summary
		require.NoError(t, json.Unmarshal(raw, &back))
		require.NoError(t, back.Check(), "a decoded summary checks too")
		reporttest.CheckSummary(t, b.fx, &back, reporttest.Now)
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestCheckCatchesATotalThatIsNotItsRows(t *testing.T) {
	t.Parallel()
	eachSeeded(t, func(t *testing.T, b testBundle) {
		s := build(t, b.store, reporttest.From, reporttest.To)
		s.Payouts.Totals[0].Cents++
		require.ErrorContains(t, s.Check(), "payouts")
		s.Payouts.Totals[0].Cents--
		s.Wallet.Snapshots[1].Movement.Unexplained.Cents++
		require.ErrorContains(t, s.Check(), "unexplained")
		s.Wallet.Snapshots[1].Movement.Unexplained.Cents--
		s.Wallet.Snapshots[1].Movement.ForeignPayouts.Cents++
		require.ErrorContains(t, s.Check(), "foreign payouts")
		s.Wallet.Snapshots[1].Movement.ForeignPayouts.Cents--
		s.Wallet.Movement.UnpricedPayouts++
		require.ErrorContains(t, s.Check(), "does not sum its snapshots")
		s.Wallet.Movement.UnpricedPayouts--
		s.WalletDebits.Rows[0].Debited.Cents++
		require.ErrorContains(t, s.Check(), "wallet debits: totals")
		s.WalletDebits.Rows[0].Debited.Cents--
		s.WalletDebits.Total.Unpriced++
		require.ErrorContains(t, s.Check(), "wallet debits: total")
		s.WalletDebits.Total.Unpriced--
		s.WalletDebits.Totals[0].Refunded.Currency = "BRL"
		require.ErrorContains(t, s.Check(), `currency "BRL" for the USD wallet`)
		s.WalletDebits.Totals[0].Refunded.Currency = "USD"
		require.NoError(t, s.Check())
		s.Findings.Total--
		require.ErrorContains(t, s.Check(), "findings")
	})
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		from, to string
		fields   []string // which bounds are wrong; none for a good range
	}{
		"one day":           {from: "2025-06-01", to: "2025-06-02"},
		"a leap year":       {from: "2024-01-01", to: "2025-01-01"},
		"366 days":          {from: "2025-01-01", to: "2026-01-02"},
		"367 days":          {from: "2025-01-01", to: "2026-01-03", fields: []string{"to"}},
		"missing both":      {fields: []string{"from", "to"}},
		"missing to":        {from: "2025-06-01", fields: []string{"to"}},
		"not a date":        {from: "June 1", to: "2025-06-02", fields: []string{"from"}},
		"a time":            {from: "2025-06-01T00:00:00Z", to: "2025-06-02", fields: []string{"from"}},
		"no such day":       {from: "2025-02-30", to: "2025-03-02", fields: []string{"from"}},
		"from equals to":    {from: "2025-06-01", to: "2025-06-01", fields: []string{"to"}},
		"from after to":     {from: "2025-06-02", to: "2025-06-01", fields: []string{"to"}},
		"both badly formed": {from: "x", to: "y", fields: []string{"from", "to"}},
	} {
		t.Run(name, func(t *testing.T) {
			from, to, err := report.ParseRange(tc.from, tc.to)
			if len(tc.fields) == 0 {
				require.NoError(t, err)
				require.Equal(t, tc.from, from.Format(time.DateOnly))
				require.Equal(t, tc.to, to.Format(time.DateOnly))
				require.Equal(t, time.UTC, from.Location())
				return
			}
			var re *report.RangeError
			require.ErrorAs(t, err, &re)
			var got []string
			for f := range re.Fields {
				got = append(got, f)
			}
			require.ElementsMatch(t, tc.fields, got, "%v", re)
		})
	}
}

func TestBuildRefusesBoundsThatAreNotDates(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	_, err := report.Build(t.Context(), store, reporttest.From.Add(time.Hour), reporttest.To)
	var re *report.RangeError
	require.ErrorAs(t, err, &re)
	require.Contains(t, re.Fields, "from")
}

func sum(count, cents int64) reporttest.Sum { return reporttest.Sum{Count: count, Cents: cents} }

// TestCSVKeepsFormulasOutOfSpreadsheets: text from Coinflow (a speed, a
// status) never starts a cell with a formula character, while negative
// amounts stay numbers.
func TestCSVKeepsFormulasOutOfSpreadsheets(t *testing.T) {
	t.Parallel()
	s := &report.Summary{From: "2025-06-01", To: "2025-06-02"}
	s.Payouts.Rows = []report.PayoutRow{{Date: "2025-06-01", Status: "@status", Speed: "=HYPERLINK(\"x\")",
		Amount: report.Amount{Currency: "USD", Count: 1, Cents: 100}}}
	s.Wallet.Currency = "USD"
	s.Wallet.Movement.Change = report.Money{Cents: -250, Currency: "USD"}
	var buf bytes.Buffer
	require.NoError(t, report.WriteCSV(&buf, s))
	for _, row := range reporttest.ReadCSV(t, buf.Bytes()) {
		switch row["section"] {
		case report.SectionPayouts:
			require.Equal(t, "'=HYPERLINK(\"x\")", row["speed"])
			require.Equal(t, "'@status", row["status"])
		case report.SectionWalletTotal:
			require.Equal(t, "-250", row["change_cents"])
		}
	}
}
