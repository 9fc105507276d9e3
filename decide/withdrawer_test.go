package decide_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// apply runs evidence through decide.Withdrawer in order, as the store
// would keep the result.
func applyAll(evidence ...decide.Verification) *models.Withdrawer {
	var cur *models.Withdrawer
	for _, v := range evidence {
		d := decide.Withdrawer(cur, v)
		next := *d.Write.New
		cur = &next
	}
	return cur
}

// TestSameStatusKeepsWhenItBegan: evidence repeating the status a
// withdrawer is in (a 451 read, a KYC Created redelivered, the list) never
// moves the time the status began, whatever the order, so kyc_stalled
// counts from the start of verification; an approval still moves it.
func TestSameStatusKeepsWhenItBegan(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	pending := func(at time.Time, src models.Source) decide.Verification {
		return decide.Verification{Source: src, UserID: "u", Status: models.VerificationPending, At: at}
	}
	early, late := pending(t0, models.SourceAPI), pending(t0.Add(71*time.Hour), models.SourceAPI)
	listed := pending(t0.Add(72*time.Hour), models.SourceReconcile)
	for name, order := range map[string][]decide.Verification{
		"in order":       {early, late, listed},
		"late first":     {late, early, listed},
		"list first":     {listed, late, early},
		"reverse":        {listed, early, late},
		"early repeated": {early, early, late},
	} {
		w := applyAll(order...)
		require.Equal(t, models.VerificationPending, w.VerificationStatus, name)
		require.True(t, t0.Equal(w.VerificationAt), "%s: began %s", name, w.VerificationAt)
	}
	approved := decide.Verification{Source: models.SourceWebhook, UserID: "u", Status: models.VerificationApproved, At: t0.Add(73 * time.Hour)}
	w := applyAll(early, late, approved)
	require.Equal(t, models.VerificationApproved, w.VerificationStatus)
	require.True(t, t0.Add(73*time.Hour).Equal(w.VerificationAt))
}
