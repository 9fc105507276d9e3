package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/report/reporttest"
)

func TestNamesAreTheReports(t *testing.T) {
	t.Parallel()
	require.Equal(t, reporttest.Names, report.Names())
	names := report.Names()
	names[0] = "changed"
	require.Equal(t, "payouts", report.Names()[0], "Names hands out a copy")
}

// writeNamed writes the report name for the fixture's range.
func writeNamed(t *testing.T, store *models.Store, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.WriteNamed(t.Context(), &b, store, name, reporttest.From, reporttest.To), name)
	return b.Bytes()
}

func TestWriteNamedMatchesTheFixture(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fx := reporttest.SeedVaried(t, store, clock)
		tables := map[string]reporttest.Table{}
		for _, name := range report.Names() {
			tables[name] = reporttest.CheckNamed(t, fx, name, writeNamed(t, store, name), reporttest.Now)
		}
		reporttest.CheckItemizedAgainstSummary(t, tables["payouts"], tables["summary"])

		// The summary report's totals are the Summary's.
		s := build(t, store, reporttest.From, reporttest.To)
		totals := map[string]reporttest.Sum{}
		for _, row := range tables["summary"] {
			if row["line"] == report.LinePayoutsTotal {
				n, err := strconv.ParseInt(row["count"], 10, 64)
				require.NoError(t, err)
				totals[row["currency"]] = reporttest.Sum{Count: n, Cents: reporttest.Cents(t, row["amount"])}
			}
		}
		require.Equal(t, reporttest.Totals(s.Payouts.Totals), totals)

		// Four currencies, every status, both kinds of return, an unpriced
		// foreign payout: what the fixture promises the tests cover.
		currencies, statuses := map[string]bool{}, map[string]bool{}
		var unpriced, returns int
		for _, row := range tables["payouts"] {
			currencies[row["currency"]], statuses[row["status"]] = true, true
			if row["currency"] != "USD" && row["coinflow_transaction"] != "" && row["wallet_debit"] == "" {
				unpriced++
			}
			if row["return_status"] != "" {
				returns++
			}
		}
		require.Len(t, currencies, 4)
		require.Len(t, statuses, 6)
		require.GreaterOrEqual(t, unpriced, 2)
		require.GreaterOrEqual(t, returns, 4)
	})
}

func TestPayoutsReportMoneyIsExactDecimals(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fx := reporttest.SeedVaried(t, store, clock)
		rows := reporttest.CheckNamed(t, fx, "payouts", writeNamed(t, store, "payouts"), reporttest.Now)
		byID := map[string]map[string]string{}
		for _, row := range rows {
			byID[row["payout_id"]] = row
		}
		// p2: 1,500,000.00 USD and a 50.00 merchant fee, debited together.
		var p2 map[string]string
		for _, p := range fx.Payouts {
			if p.Amount.Cents == 150_000_000 {
				p2 = byID[p.ID]
			}
		}
		require.Equal(t, "1500000.00", p2["amount"])
		require.Equal(t, "50.00", p2["merchant_fee"])
		require.Equal(t, "1500050.00", p2["wallet_debit"])
		require.Equal(t, "GBP", byID["x-gbp-priced"]["currency"])
		require.Equal(t, "987.65", byID["x-gbp-priced"]["amount"])
		require.Equal(t, "USD", byID["x-gbp-priced"]["wallet_debit_currency"])
		require.Equal(t, "1251.20", byID["x-gbp-priced"]["wallet_debit"])
		require.Equal(t, "1.2668", byID["x-gbp-priced"]["exchange_rate"])
		require.Empty(t, byID["x-gbp-unpriced"]["wallet_debit"], "unpriced is empty, not 0")
		require.Empty(t, byID["x-gbp-unpriced"]["exchange_rate"])
		require.Equal(t, "1.00", byID["x-formula"]["amount"])
		require.Equal(t, "'"+reporttest.FormulaUser, byID["x-formula"]["user_id"], "defused")
	})
}

// The SQLite read is paged: pages smaller than the rows give the same
// file, complete and ordered, and between pages the one connection is free
// for writers; PostgreSQL pages inside the report's snapshot.
func TestPayoutsReportReadsInPages(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fx := reporttest.SeedVaried(t, store, clock)
		// Twenty-five payouts in one microsecond: pages must break ties by id.
		tie := reporttest.From.Add(5 * time.Hour)
		var ps []dbtest.RawPayout
		for i := range 25 {
			ps = append(ps, dbtest.RawPayout{ID: fmt.Sprintf("tie-%02d", 24-i), Cents: int64(100 + i), Speed: "standard", CreatedAt: tie})
		}
		dbtest.InsertPayouts(t, store, ps...)
		for _, p := range ps {
			loaded, err := store.PayoutGet(t.Context(), p.ID)
			require.NoError(t, err)
			fx.Payouts = append(fx.Payouts, *loaded)
		}
		whole := writeNamed(t, store, "payouts")
		rows := reporttest.CheckNamed(t, fx, "payouts", whole, reporttest.Now)
		require.Greater(t, len(rows), 40)

		for _, size := range []int{1, 4, 7, len(rows), len(rows) + 1} {
			w := &writerThatWrites{t: t, store: store, run: fmt.Sprintf("paging-%d", size)}
			require.NoError(t, report.WritePayoutsPaged(t.Context(), w, store, reporttest.From, reporttest.To, size), "page size %d", size)
			require.Equal(t, string(whole), w.String(), "page size %d", size)
			pages := (len(rows) + size - 1) / size
			if size <= 7 {
				require.Equal(t, pages, w.writes, "page size %d: a page at a time reaches the writer", size)
			}
			require.GreaterOrEqual(t, w.writes, pages, "page size %d", size)
		}
	})
}

// writerThatWrites records to the store on every write: it would wait for
// ever (here: 10 s) if the report held SQLite's one connection meanwhile.
type writerThatWrites struct {
	bytes.Buffer
	t      *testing.T
	store  *models.Store
	run    string
	writes int
}

func (w *writerThatWrites) Write(b []byte) (int, error) {
	ctx, cancel := context.WithTimeout(w.t.Context(), 10*time.Second)
	defer cancel()
	w.writes++
	if _, err := w.store.WalletSnapshotAdd(ctx, w.run, reporttest.Now, 1); err != nil {
		return 0, fmt.Errorf("write to the store between pages: %w", err)
	}
	return w.Buffer.Write(b)
}

// A payout Coinflow reports while the report is read, created earlier in
// the range: PostgreSQL's snapshot leaves it out of rows and totals alike;
// SQLite, which has no snapshot, may read it in a later page, and then the
// rows no longer add up to the totals taken first: an error, not a file
// passed off as whole.
func TestPayoutsReportRowsMustAddUp(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fx := reporttest.SeedVaried(t, store, clock)
		whole := writeNamed(t, store, "payouts")
		// A payout created late on June 2, inserted on the first write.
		w := &firstWrite{do: func() error {
			dbtest.InsertPayouts(t, store, dbtest.RawPayout{ID: "discovered", Cents: 999, Speed: "standard",
				CreatedAt: reporttest.To.Add(-time.Minute)})
			return nil
		}}
		err := report.WritePayoutsPaged(t.Context(), w, store, reporttest.From, reporttest.To, 2)
		if store.Dialect() == models.DialectPostgres {
			require.NoError(t, err)
			require.Equal(t, string(whole), w.String(), "the snapshot does not see the payout")
			reporttest.CheckNamed(t, fx, "payouts", w.Bytes(), reporttest.Now)
			return
		}
		require.ErrorContains(t, err, "payouts report 2025-06-01 to 2025-06-03: rows do not add up to the totals")
		require.ErrorContains(t, err, "USD: total ")
		require.NotEmpty(t, w.Bytes(), "the error comes after rows were written")
	})
}

// firstWrite runs do before its first write: a change to the database
// while a report is being read.
type firstWrite struct {
	bytes.Buffer
	do   func() error
	done bool
}

func (f *firstWrite) Write(b []byte) (int, error) {
	if !f.done {
		f.done = true
		if err := f.do(); err != nil {
			return 0, err
		}
	}
	return f.Buffer.Write(b)
}

func TestWriteNamedRefusesBeforeWriting(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		var b bytes.Buffer
		err := report.WriteNamed(t.Context(), &b, store, "ledger", reporttest.From, reporttest.To)
		unknown, ok := errors.AsType[*report.UnknownNameError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "ledger", unknown.Name)
		require.EqualError(t, err, `unknown report "ledger": want one of payouts, summary, fees, speeds, failures, aging, all`)
		require.Zero(t, b.Len())

		for _, name := range report.Names() {
			err := report.WriteNamed(t.Context(), &b, store, name, reporttest.To, reporttest.From)
			_, ok := errors.AsType[*report.RangeError](err)
			require.True(t, ok, "%s: %v", name, err)
			err = report.WriteNamed(t.Context(), &b, store, name, reporttest.From.Add(time.Hour), reporttest.To)
			_, ok = errors.AsType[*report.RangeError](err)
			require.True(t, ok, "%s: %v", name, err)
			require.Zero(t, b.Len(), name)
		}
	})
}

// An empty range still gives each report its header, and nothing else but
// the summary's wallet totals at 0.
func TestWriteNamedEmptyRange(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		reporttest.SeedVaried(t, store, clock)
		from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		for name, header := range reporttest.Headers {
			var b bytes.Buffer
			require.NoError(t, report.WriteNamed(t.Context(), &b, store, name, from, from.AddDate(0, 0, 1)))
			rows := reporttest.ReadTable(t, b.Bytes(), header)
			switch name {
			case "summary":
				require.Len(t, rows, 2)
				for _, row := range rows {
					require.True(t, slices.Contains([]string{report.LineWalletDebitedTotal, report.LineWalletRefundedTotal}, row["line"]))
					require.Equal(t, "0.00", row["amount"])
				}
			case "aging":
				// Aging is what waits now, whatever the range.
				require.NotEmpty(t, rows)
			default:
				require.Empty(t, rows, name)
			}
		}
	})
}

func TestNamedReportsKeepFormulasOutOfSpreadsheets(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		dbtest.InsertPayouts(t, store,
			dbtest.RawPayout{ID: "f1", UserID: "+cmd|' /C calc'!A0", Cents: 5, Speed: "@SUM(A1)", CreatedAt: reporttest.From.Add(time.Hour)},
			dbtest.RawPayout{ID: "f2", UserID: "-2+3", Cents: 7, Speed: "=1+1", CreatedAt: reporttest.From.Add(2 * time.Hour)})
		for _, name := range []string{"payouts", "summary", "speeds"} {
			var b bytes.Buffer
			require.NoError(t, report.WriteNamed(t.Context(), &b, store, name, reporttest.From, reporttest.To))
			for _, row := range reporttest.ReadTable(t, b.Bytes(), reporttest.Headers[name]) {
				for col, v := range row {
					if v == "" || reporttest.IsDecimal(v) {
						continue
					}
					require.NotContains(t, "=+-@", v[:1], "%s: %s %q", name, col, v)
				}
			}
		}
	})
}

// A payout created while the report is read (created now, as payoutd
// creates them) is in neither its rows nor its totals: PostgreSQL's
// snapshot does not see it, and on SQLite the read stops at the instant the
// report started. So a report of today succeeds while payouts come in.
func TestPayoutsReportLeavesOutPayoutsCreatedWhileItReads(t *testing.T) {
	t.Parallel()
	start := reporttest.From.Add(36 * time.Hour) // June 2, 12:00: within the range
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		var ps []dbtest.RawPayout
		for i := range 10 {
			ps = append(ps, dbtest.RawPayout{ID: fmt.Sprintf("b-%02d", i), Cents: int64(100 * (i + 1)), Speed: "standard",
				CreatedAt: reporttest.From.Add(time.Duration(i) * time.Hour)})
		}
		dbtest.InsertPayouts(t, store, ps...)
		var before bytes.Buffer
		require.NoError(t, report.WritePayoutsPaged(t.Context(), &before, store, reporttest.From, reporttest.To, 3))

		// A payout created through the store a second after the report
		// started, on the first write.
		w := &firstWrite{do: func() error {
			clock.Advance(time.Second)
			return store.PayoutCreate(t.Context(), &models.Payout{UserID: "u-new", Amount: models.Money{Cents: 5000, Currency: "USD"},
				Status: models.StatusRequested, Source: models.OriginAPI}, models.SourceAPI, nil)
		}}
		require.NoError(t, report.WritePayoutsPaged(t.Context(), w, store, reporttest.From, reporttest.To, 3))
		require.True(t, w.done)
		require.Equal(t, before.String(), w.String())
		rows := reporttest.ReadTable(t, w.Bytes(), reporttest.Headers["payouts"])
		require.Len(t, rows, 10)
	})
}
