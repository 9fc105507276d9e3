package initiate_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// Retrying with the same idempotency key is safe, but only worth it when
// the database was out of reach: a store failure that recurs is a 500.
func TestInitiateStoreFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		require.NoError(t, store.DB().Exec("DROP TABLE payout_history").Error)
		status, a := b.post(t, body("u-ok", 100, "asap", bankToken, "k-broken"))
		require.Equal(t, http.StatusInternalServerError, status)
		require.Equal(t, "internal", a.Error.Code)
		require.Zero(t, b.emu.Calls(coinflowtest.OpPayout), "nothing was paid")

		require.NoError(t, store.Close())
		status, a = b.post(t, body("u-ok", 100, "asap", bankToken, "k-closed"))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "unavailable", a.Error.Code)
		require.Zero(t, b.emu.Calls(coinflowtest.OpPayout))
	})
}
