package reporttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// FormulaUser is the user id of a payout SeedVaried writes: a spreadsheet
// would run it as a formula were it not defused.
const FormulaUser = `=HYPERLINK("http://example.com/x","x")`

// SeedVaried is Seed and then more payouts written with plain SQL, late on
// June 2, after the last wallet snapshot of the range (so that the wallet's
// movements, the aging and the findings stay Seed's): every status there is
// (unknown and in_review too), a third foreign currency priced and
// unpriced, a return completed and one pending in BRL, two payouts created
// in the same microsecond, and a user id that reads as a formula. Their
// expectations come from the payouts as stored, like Seed's.
func SeedVaried(t testing.TB, store *models.Store, clock *dbtest.Clock) *Fixture {
	t.Helper()
	fx := Seed(t, store, clock)
	late := func(hour, minute int) time.Time { return time.Date(2025, 6, 2, hour, minute, 0, 0, time.UTC) }
	debit := func(cents int64) *int64 { return &cents }
	returned := late(23, 0)
	extra := []dbtest.RawPayout{
		{ID: "x-unknown", Cents: 4321, Status: models.StatusUnknown, Speed: "standard", Transaction: "-", CreatedAt: late(21, 0)},
		{ID: "x-gbp-priced", Currency: "GBP", Cents: 98_765, Status: models.StatusCompleted, Speed: "iban",
			MerchantFeesCents: 150, WalletDebitCents: debit(125_120), ExchangeRate: "1.2668", CreatedAt: late(21, 10)},
		{ID: "x-gbp-unpriced", Currency: "GBP", Cents: 10_000, Status: models.StatusPending, Speed: "iban", CreatedAt: late(21, 20)},
		{ID: "x-tie-a", Cents: 20_000, Status: models.StatusInReview, Speed: "same_day", UserFeesCents: 75, CreatedAt: late(22, 0)},
		{ID: "x-tie-b", Cents: 30_000, Status: models.StatusRequested, Speed: "same_day", Transaction: "-", CreatedAt: late(22, 0)},
		{ID: "x-returned", Cents: 55_000, Status: models.StatusFailed, Speed: "standard", MerchantFeesCents: 100,
			ReturnStatus: models.ReturnStatusCompleted, ReturnedAt: &returned, CreatedAt: late(22, 30)},
		{ID: "x-brl-return", Currency: "BRL", Cents: 30_000, Status: models.StatusFailed, Speed: "pix",
			ReturnStatus: models.ReturnStatusPending, WalletDebitCents: debit(5_400), ExchangeRate: "0.18", CreatedAt: late(23, 15)},
		{ID: "x-formula", UserID: FormulaUser, Cents: 100, Status: models.StatusCompleted, Speed: "standard", CreatedAt: late(23, 59)},
	}
	dbtest.InsertPayouts(t, store, extra...)
	for _, x := range extra {
		p, err := store.PayoutGet(t.Context(), x.ID)
		if err != nil {
			t.Fatalf("seed varied: reload %s: %v", x.ID, err)
		}
		fx.Payouts = append(fx.Payouts, *p)
	}
	return fx
}

// SeedUnreadable writes, on SQLite, 1,500 payouts a second apart from
// From, in one transaction, and makes the 1,201st (p-1200) one whose
// returned_at is text no one can read as a time: the payouts report, in
// pages of 1,000, fails in its second page, after the first went out.
// PostgreSQL would refuse such a value, so there is no such test there.
func SeedUnreadable(t testing.TB, store *models.Store) {
	t.Helper()
	var ps []dbtest.RawPayout
	for i := range 1500 {
		ps = append(ps, dbtest.RawPayout{ID: fmt.Sprintf("p-%04d", i), Cents: 100, Speed: "standard",
			CreatedAt: From.Add(time.Duration(i) * time.Second)})
	}
	err := store.Tx(t.Context(), func(tx *models.Store) error {
		dbtest.InsertPayouts(t, tx, ps...)
		return tx.DB().Exec(`UPDATE payouts SET returned_at = 'not a time' WHERE id = 'p-1200'`).Error
	})
	if err != nil {
		t.Fatalf("seed unreadable: %v", err)
	}
}
