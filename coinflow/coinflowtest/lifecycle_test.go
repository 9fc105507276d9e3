package coinflowtest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func TestLifecyclePendingToCompletedOnAdvance(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	sameDay := b.mustPayout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(1))
	asap := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(2))
	stuck := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 2_000, key(3))
	review := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 3_000, key(4))
	require.NoError(t, b.srv.Stuck(stuck.Signature))
	require.NoError(t, b.srv.SetInReview(review.Signature))

	b.srv.Advance(2 * time.Minute)
	require.Equal(t, "pending", b.withdraw(t, asap.Signature)["status"], "not due yet")

	b.srv.Advance(time.Minute) // 14:03: asap is due
	require.Equal(t, "completed", b.withdraw(t, asap.Signature)["status"])
	require.Equal(t, "2025-06-02T14:03:00.000Z", b.withdraw(t, asap.Signature)["updatedAt"])
	require.Equal(t, "pending", b.withdraw(t, sameDay.Signature)["status"])

	b.srv.Advance(24 * time.Hour)
	require.Equal(t, "completed", b.withdraw(t, sameDay.Signature)["status"])
	require.Equal(t, "pending", b.withdraw(t, stuck.Signature)["status"], "stuck never moves")
	w, _ := b.srv.Withdraw(review.Signature)
	require.Equal(t, "in_review", w.Status)
	got := b.withdraw(t, review.Signature)
	require.Equal(t, "pending", got["status"], "IWithdraw has no in_review")
	require.Equal(t, false, got["payoutInitiated"])

	require.NoError(t, b.srv.Complete(stuck.Signature))
	require.Equal(t, "completed", b.withdraw(t, stuck.Signature)["status"])

	b.wait(t)
	envs := b.hook.envelopes(t)
	require.Equal(t, []string{
		"Withdraw Pending", "Withdraw Pending", "Withdraw Pending", "Withdraw Pending",
		"Withdraw Success", "Withdraw Success", "Withdraw Success",
	}, eventTypes(envs))
	require.Equal(t, asap.Signature, envs[4].Data.Signature)
	require.Equal(t, "2025-06-02T14:03:00.000Z", envs[4].Created, "created at the due time")
	require.Equal(t, sameDay.Signature, envs[5].Data.Signature)
	require.Equal(t, "2025-06-02T21:00:00.000Z", envs[5].Created)
	require.Equal(t, stuck.Signature, envs[6].Data.Signature)
}

func TestLifecycleOptionsAndSetNow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	b := setup(t, setupOpts{opts: coinflowtest.Options{
		Start:     start,
		Lifecycle: coinflowtest.Lifecycle{"standard": time.Hour},
		Fees:      map[string]int64{"standard": 0, "iban": 75},
	}})
	b.addUser(t, "u-1")
	require.Equal(t, start, b.srv.Now())
	p := b.mustPayout(t, "u-1", "bnk_u-1", "standard", 1_000, key(1))
	w, _ := b.srv.Withdraw(p.Signature)
	require.Equal(t, start.Add(time.Hour), w.ExpectedDeliveryDate)
	require.Zero(t, w.MerchantFeeCents)

	b.srv.SetNow(start.Add(time.Hour))
	w, _ = b.srv.Withdraw(p.Signature)
	require.Equal(t, "completed", w.Status)
	require.Equal(t, start.Add(time.Hour), b.srv.Now())
}

func TestVerificationEmitsKYCEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1002", Email: "bob@example.com", Country: "GB", Verification: "pending"})
	require.NoError(t, err)
	require.NoError(t, b.srv.SetVerification("u-1002", "approved"))
	require.NoError(t, b.srv.SetVerification("u-1002", "rejected"))
	require.NoError(t, b.srv.SetVerification("u-1002", "partial-approval"))
	require.NoError(t, b.srv.SetVerification("u-1002", "pending"))
	require.ErrorIs(t, b.srv.SetVerification("u-1002", "maybe"), coinflowtest.ErrInvalid)
	require.ErrorIs(t, b.srv.SetVerification("u-x", "approved"), coinflowtest.ErrNotFound)

	b.wait(t)
	envs := b.hook.envelopes(t)
	require.Equal(t, []string{"KYC Success", "KYC Failure", "KYC Created"}, eventTypes(envs))
	for _, e := range envs {
		require.Equal(t, "KYC", e.Category)
		require.Equal(t, "acme-payoutsʬu-1002", e.Data.Wallet)
		require.Equal(t, "user", e.Data.Blockchain)
		require.Equal(t, "bob@example.com", e.Data.Email)
	}
	w, _ := b.srv.Withdrawer("u-1002")
	require.Equal(t, "pending", w.Verification)
	require.Equal(t, "GBP", w.Currency)
}
