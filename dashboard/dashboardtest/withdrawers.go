package dashboardtest

import (
	"testing"
	"time"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// Seeded withdrawer facts, known to tests.
const (
	// PendingUser is pending verification, with a hosted link.
	PendingUser = "user-3"
	PendingLink = "https://verify.coinflow.example/kyc/s-3?lang=en&step=1"
	// BlockedUser was approved, then blocked by a reconciliation.
	BlockedUser = "user-1"
	// ForeignUser is paid in EUR; its payout has a USD wallet debit.
	ForeignUser       = "user-eur"
	ForeignDebitCents = 4_571_00
	ForeignRate       = "1.0864"
	// SearchUser's destinations: an active bank account and a deleted card.
	SearchBankToken = "bank-tok-secret-7f3a9c1e"
	SearchBankLast4 = "6789"
	SearchCardToken = "card-tok-secret-0b4d2e8a"
	SearchCardLast4 = "4242"
)

// ApplyVerification records v about a withdrawer through the one decision
// and the store's one write path, as the inbox and reconciliation do.
func ApplyVerification(t testing.TB, store *models.Store, v decide.Verification) {
	t.Helper()
	ctx := t.Context()
	err := store.Tx(ctx, func(tx *models.Store) error {
		cur, err := tx.WithdrawerForUpdate(ctx, v.UserID)
		if err != nil {
			return err
		}
		_, err = tx.WithdrawerWrite(ctx, decide.Withdrawer(cur, v).Write)
		return err
	})
	if err != nil {
		t.Fatalf("seed withdrawer %s: %v", v.UserID, err)
	}
}

// seedWithdrawers registers the withdrawers of the seeded payouts' users,
// an hour apart from start, with the later evidence and destinations the
// dashboard shows; it returns them oldest first.
func seedWithdrawers(t testing.TB, store *models.Store, clock *dbtest.Clock, start time.Time) []string {
	t.Helper()
	ctx := t.Context()
	yes, no := true, false
	verify := func(at time.Time, user string, status models.VerificationStatus, src models.Source, blocked *bool, country, currency, link string) {
		t.Helper()
		clock.Set(at)
		ApplyVerification(t, store, decide.Verification{
			Source: src, UserID: user, Wallet: "wallet-" + user, Blockchain: "user",
			EmailMasked: models.MaskEmail(user + "@example.com"), Status: status, At: at, Blocked: blocked,
			Country: country, Currency: currency, Link: link,
		})
	}
	api, webhook, reconcile := models.SourceAPI, models.SourceWebhook, models.SourceReconcile
	users := []string{"user-0", BlockedUser, "user-2", PendingUser, SearchUser, ForeignUser}
	at := func(i int, later time.Duration) time.Time { return start.Add(time.Duration(i)*time.Hour + later) }

	verify(at(0, 0), "user-0", models.VerificationApproved, api, &no, "US", "USD", "")
	verify(at(1, 0), BlockedUser, models.VerificationApproved, api, &no, "BR", "BRL", "")
	verify(at(2, 0), "user-2", models.VerificationPending, api, &no, "", "", "https://verify.coinflow.example/kyc/s-2")
	verify(at(3, 0), PendingUser, models.VerificationPending, api, &no, "", "", PendingLink)
	verify(at(4, 0), SearchUser, models.VerificationPending, api, &no, "", "", "https://verify.coinflow.example/kyc/s-7")
	verify(at(5, 0), ForeignUser, models.VerificationApproved, api, &no, "DE", "EUR", "")
	// Later evidence: a rejection, an approval that ends the link, a block.
	verify(at(5, 20*time.Minute), "user-2", models.VerificationRejected, webhook, nil, "", "", "")
	verify(at(5, 30*time.Minute), SearchUser, models.VerificationApproved, webhook, nil, "US", "USD", "")
	synced := at(5, 40*time.Minute)
	clock.Set(synced)
	ApplyVerification(t, store, decide.Verification{
		Source: reconcile, UserID: BlockedUser, Status: models.VerificationApproved, At: synced, Blocked: &yes, SyncedAt: &synced,
	})

	for _, d := range []models.Destination{
		{Token: "bank-tok-user0-51f2", UserID: "user-0", Kind: "bank_account", Currency: "USD", Last4: "0042", Speeds: "standard,same_day"},
		{Token: "pix-tok-user1-88c0", UserID: BlockedUser, Kind: "pix", Currency: "BRL", Last4: "1199", Speeds: "asap"},
		{Token: SearchBankToken, UserID: SearchUser, Kind: "bank_account", Currency: "USD", Last4: SearchBankLast4, Speeds: "standard,same_day"},
		{Token: SearchCardToken, UserID: SearchUser, Kind: "card", Currency: "USD", Last4: SearchCardLast4, Speeds: "asap"},
		{Token: "iban-tok-eur-3c1d", UserID: ForeignUser, Kind: "iban", Currency: "EUR", Last4: "3000", Speeds: "standard"},
	} {
		clock.Set(at(5, 45*time.Minute))
		if err := store.DestinationSave(ctx, &d); err != nil {
			t.Fatalf("seed destination: %v", err)
		}
	}
	clock.Set(at(5, 50*time.Minute))
	if err := store.DestinationMarkDeleted(ctx, SearchUser, SearchCardToken); err != nil {
		t.Fatalf("seed destination: %v", err)
	}
	return users
}
