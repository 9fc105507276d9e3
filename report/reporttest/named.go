package reporttest

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/models"
)

// Headers are the header rows the named CSV reports must have, restated
// here so that a test does not take them from the code it tests.
var Headers = map[string][]string{
	"payouts": {"payout_id", "user_id", "created_at", "status", "requested_speed", "effective_speed",
		"currency", "amount", "user_fee_currency", "user_fee", "merchant_fee_currency", "merchant_fee",
		"wallet_debit_currency", "wallet_debit", "exchange_rate", "coinflow_transaction", "return_status", "returned_at"},
	"summary":  {"line", "status", "payouts_currency", "count", "unpriced_count", "currency", "amount"},
	"fees":     {"line", "date", "payer", "currency", "count", "amount"},
	"speeds":   {"line", "class", "requested_speed", "effective_speed", "currency", "count", "amount"},
	"failures": {"line", "class", "status", "return_status", "currency", "count", "amount"},
	"aging":    {"line", "as_of", "kind", "bucket", "currency", "count", "amount"},
}

// Table is a named report parsed: its rows, column to value.
type Table []map[string]string

// ReadTable parses a named report with encoding/csv, requiring its header
// to be want and every row to be as wide as the header.
func ReadTable(t testing.TB, b []byte, want []string) Table {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(want) // every record, the header too
	recs, err := r.ReadAll()
	require.NoError(t, err, "%s", b)
	require.NotEmpty(t, recs, "a header row")
	require.Equal(t, want, recs[0])
	rows := make(Table, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			row[want[i]] = v
		}
		rows = append(rows, row)
	}
	return rows
}

var (
	decimalMoney = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)
	plainNumber  = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// IsDecimal reports whether a cell is a plain number, which a spreadsheet
// reads as nothing but a number: the one kind of cell that may start with
// a minus undefused.
func IsDecimal(v string) bool { return plainNumber.MatchString(v) }

// Cents reads a money cell back into integer cents: it must be an exact
// decimal with two places and no separator ("1234.56").
func Cents(t testing.TB, v string) int64 {
	t.Helper()
	require.Regexp(t, decimalMoney, v, "a money cell")
	neg := strings.HasPrefix(v, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(v, "-"), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	require.NoError(t, err)
	f, err := strconv.ParseInt(frac, 10, 64)
	require.NoError(t, err)
	if neg {
		return -(w*100 + f)
	}
	return w*100 + f
}

func count(t testing.TB, v string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(v, 10, 64)
	require.NoError(t, err, "a count cell %q", v)
	return n
}

// moneyOf is a money cell and its currency cell: both empty, or a currency
// and an exact decimal.
func moneyOf(t testing.TB, row map[string]string, currencyCol, amountCol string) (string, int64, bool) {
	t.Helper()
	cur, amt := row[currencyCol], row[amountCol]
	if cur == "" && amt == "" {
		return "", 0, false
	}
	require.NotEmpty(t, cur, "%s of %v has no currency", amountCol, row)
	return cur, Cents(t, amt), true
}

// CheckPayouts requires the payouts report to list every payout of the
// fixture created in [From, To), once, oldest first, each as stored, and to
// add up to the fixture's totals per currency.
func CheckPayouts(t testing.TB, fx *Fixture, rows Table) {
	t.Helper()
	want := map[string]models.Payout{}
	for _, p := range fx.Payouts {
		if inRange(&p) {
			want[p.ID] = p
		}
	}
	require.Len(t, rows, len(want))
	sums := map[string]Sum{}
	var prevAt time.Time
	var prevID string
	for i, row := range rows {
		p, ok := want[row["payout_id"]]
		require.True(t, ok, "row %d: payout %q is not one created in the range", i, row["payout_id"])
		delete(want, p.ID)
		at, err := time.Parse(time.RFC3339Nano, row["created_at"])
		require.NoError(t, err)
		require.True(t, at.Equal(p.CreatedAt), "created_at of %s", p.ID)
		require.True(t, strings.HasSuffix(row["created_at"], "Z"), "UTC")
		if i > 0 {
			require.True(t, at.After(prevAt) || at.Equal(prevAt) && p.ID > prevID, "row %d out of (created_at, id) order", i)
		}
		prevAt, prevID = at, p.ID

		userID := p.UserID
		if strings.HasPrefix(userID, "=") {
			userID = "'" + userID
		}
		require.Equal(t, userID, row["user_id"])
		require.Equal(t, string(p.Status), row["status"])
		require.Equal(t, models.Deref(p.RequestedSpeed), row["requested_speed"])
		require.Equal(t, models.Deref(p.EffectiveSpeed), row["effective_speed"])
		cur, cents, ok := moneyOf(t, row, "currency", "amount")
		require.True(t, ok)
		require.Equal(t, p.Amount, models.Money{Cents: cents, Currency: cur})
		add(sums, cur, cents)
		for _, f := range []struct {
			col string
			fee models.Money
		}{{"user_fee", p.UserFees}, {"merchant_fee", p.MerchantFees}} {
			cur, cents, ok := moneyOf(t, row, f.col+"_currency", f.col)
			require.Equal(t, f.fee.Currency != "" || f.fee.Cents != 0, ok, "%s of %s", f.col, p.ID)
			require.Equal(t, f.fee, models.Money{Cents: cents, Currency: cur}, "%s of %s", f.col, p.ID)
		}
		cur, cents, ok = moneyOf(t, row, "wallet_debit_currency", "wallet_debit")
		switch {
		case p.CoinflowTransaction == nil:
			require.False(t, ok, "%s never reached Coinflow", p.ID)
		case p.Amount.Currency == "USD":
			require.Equal(t, models.Money{Cents: p.Amount.Cents + p.MerchantFees.Cents, Currency: "USD"}, models.Money{Cents: cents, Currency: cur})
		case p.WalletDebitCents == nil:
			require.False(t, ok, "%s is not priced: empty, not 0", p.ID)
		default:
			require.Equal(t, models.Money{Cents: *p.WalletDebitCents, Currency: "USD"}, models.Money{Cents: cents, Currency: cur})
		}
		require.Equal(t, models.Deref(p.ExchangeRate), row["exchange_rate"])
		require.Equal(t, models.Deref(p.CoinflowTransaction), row["coinflow_transaction"])
		require.Equal(t, models.Deref(p.ReturnStatus), row["return_status"])
		if p.ReturnedAt == nil {
			require.Empty(t, row["returned_at"])
		} else {
			at, err := time.Parse(time.RFC3339Nano, row["returned_at"])
			require.NoError(t, err)
			require.True(t, at.Equal(*p.ReturnedAt))
		}
	}
	require.Equal(t, fx.WantPayouts(), sums, "the rows summed per currency")
}

// CheckItemizedAgainstSummary requires the payouts report, summed per
// currency and per status and currency, and its wallet debits per payout
// currency, to equal the summary report's lines to the cent, counts too.
func CheckItemizedAgainstSummary(t testing.TB, payouts, summary Table) {
	t.Helper()
	type key struct{ line, status, currency string }
	got := map[key]Sum{}
	bump := func(k key, n, cents int64) {
		s := got[k]
		got[k] = Sum{s.Count + n, s.Cents + cents}
	}
	unpriced := map[string]int64{}
	var allUnpriced int64
	for _, row := range payouts {
		cur, cents := row["currency"], Cents(t, row["amount"])
		bump(key{"payouts", row["status"], cur}, 1, cents)
		bump(key{"payouts_total", "", cur}, 1, cents)
		if row["coinflow_transaction"] == "" {
			continue
		}
		var debit int64
		if row["wallet_debit"] == "" {
			unpriced[cur]++
			allUnpriced++
		} else {
			require.Equal(t, "USD", row["wallet_debit_currency"])
			debit = Cents(t, row["wallet_debit"])
		}
		bump(key{"wallet_debited", "", cur}, 1, debit)
		bump(key{"wallet_debited_total", "", ""}, 1, debit)
		if row["status"] == "failed" && row["return_status"] == "return_completed" {
			bump(key{"wallet_refunded", "", cur}, 0, debit)
			bump(key{"wallet_refunded_total", "", ""}, 0, debit)
		}
	}
	want := map[key]Sum{}
	for _, row := range summary {
		k := key{row["line"], row["status"], row["payouts_currency"]}
		_, dup := want[k]
		require.False(t, dup, "one summary line per key: %v", k)
		var n int64
		switch k.line {
		case "payouts", "payouts_total":
			require.Equal(t, k.currency, row["currency"], "a payout line's money is in the payouts' currency")
			n = count(t, row["count"])
		case "wallet_debited", "wallet_debited_total":
			require.Equal(t, "USD", row["currency"])
			n = count(t, row["count"])
			wantUnpriced := allUnpriced
			if k.line == "wallet_debited" {
				wantUnpriced = unpriced[k.currency]
			}
			require.Equal(t, wantUnpriced, count(t, row["unpriced_count"]), "unpriced of %v", k)
		case "wallet_refunded", "wallet_refunded_total":
			require.Equal(t, "USD", row["currency"])
			require.Empty(t, row["count"])
		default:
			t.Fatalf("unknown summary line %q", k.line)
		}
		want[k] = Sum{n, Cents(t, row["amount"])}
	}
	// A currency with no refund still has its refunded line, at 0.
	for k, s := range want {
		if _, ok := got[k]; !ok && s == (Sum{}) && strings.HasPrefix(k.line, "wallet_refunded") {
			got[k] = s
		}
	}
	require.Equal(t, want, got)
}

// CheckAggregates requires the fees, speeds, failures and aging reports
// (as of now) to match the fixture: the detail rows summed, and the total
// rows, per currency.
func CheckAggregates(t testing.TB, fx *Fixture, name string, rows Table, now time.Time) {
	t.Helper()
	details, totals := map[string]map[string]Sum{}, map[string]map[string]Sum{}
	bump := func(m map[string]map[string]Sum, k, cur string, n, cents int64) {
		if m[k] == nil {
			m[k] = map[string]Sum{}
		}
		s := m[k][cur]
		m[k][cur] = Sum{s.Count + n, s.Cents + cents}
	}
	want := map[string]map[string]Sum{}
	for _, row := range rows {
		cur, n, cents := row["currency"], count(t, row["count"]), Cents(t, row["amount"])
		line := row["line"]
		require.Contains(t, []string{"detail", "total"}, line)
		m := details
		if line == "total" {
			m = totals
		}
		switch name {
		case "fees":
			bump(m, row["payer"], cur, n, cents)
		case "speeds":
			bump(m, row["class"], cur, n, cents)
		case "failures":
			if line == "total" {
				bump(m, row["class"], cur, n, cents)
				continue
			}
			require.Empty(t, row["class"])
			if row["status"] == "failed" {
				bump(m, "failed", cur, n, cents)
			}
			if rs := row["return_status"]; rs == "pending_return" || rs == "return_completed" {
				bump(m, "returns", cur, n, cents)
			}
		case "aging":
			at, err := time.Parse(time.RFC3339Nano, row["as_of"])
			require.NoError(t, err)
			require.True(t, at.Equal(now), "as of %s, want %s", at, now)
			bump(m, row["kind"], cur, n, cents)
			if line == "detail" {
				bump(details, row["kind"]+"/"+row["bucket"], cur, n, cents)
			}
		}
	}
	switch name {
	case "fees":
		want["user"], want["merchant"] = fx.WantFees("user"), fx.WantFees("merchant")
	case "speeds":
		for _, c := range []string{"as_requested", "nacha_downgrade", "other_downgrade"} {
			want[c] = fx.WantSpeeds(c)
		}
	case "failures":
		want["failed"], want["returns"] = fx.WantFailed(), fx.WantReturns()
	case "aging":
		for _, kind := range []string{"stuck", "unclaimed"} {
			want[kind] = sumAging(fx.WantAging(kind, now))
			for k, s := range fx.WantAging(kind, now) {
				if want[kind+"/"+k[0]] == nil {
					want[kind+"/"+k[0]] = map[string]Sum{}
				}
				want[kind+"/"+k[0]][k[1]] = s
			}
		}
	default:
		t.Fatalf("no aggregate report %q", name)
	}
	for k, w := range want {
		if len(w) == 0 {
			delete(want, k)
		}
	}
	require.Equal(t, want, details, "%s: detail rows", name)
	for k := range want {
		if strings.Contains(k, "/") {
			delete(want, k)
		}
	}
	require.Equal(t, want, totals, "%s: total rows", name)
}

// CheckNamed parses the named report b and checks it against the fixture,
// as of now; summary is checked against the payouts report it is given.
func CheckNamed(t testing.TB, fx *Fixture, name string, b []byte, now time.Time) Table {
	t.Helper()
	if name == "all" {
		CheckCSV(t, fx, b, now)
		return nil
	}
	header, ok := Headers[name]
	require.True(t, ok, "a header for %q", name)
	rows := ReadTable(t, b, header)
	switch name {
	case "payouts":
		CheckPayouts(t, fx, rows)
	case "summary":
		// Checked against the payouts report by the caller.
	default:
		CheckAggregates(t, fx, name, rows, now)
	}
	return rows
}

// Names are the report names, as the API and CLI must accept them.
var Names = []string{"payouts", "summary", "fees", "speeds", "failures", "aging", "all"}
