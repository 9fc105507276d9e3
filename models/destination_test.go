package models_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// TestDestinationsKeepOwnerAndDeletion: a destination is saved once per
// withdrawer and token, Coinflow's later word updates it, and a deletion
// keeps the row.
func TestDestinationsKeepOwnerAndDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		for _, u := range []string{"u-1", "u-2"} {
			d := decide.Withdrawer(nil, decide.Verification{
				Source: models.SourceAPI, UserID: u, Wallet: "w-" + u, Blockchain: "user",
				EmailMasked: "a***@example.com", Status: models.VerificationApproved, At: t0, Country: "DE", Currency: "EUR",
			})
			_, err := s.WithdrawerWrite(ctx, d.Write)
			require.NoError(t, err)
		}
		w, err := s.WithdrawerGet(ctx, "u-1")
		require.NoError(t, err)
		require.Equal(t, "DE", models.Deref(w.Country))
		require.Equal(t, "EUR", models.Deref(w.Currency))

		require.NoError(t, s.DestinationSave(ctx, &models.Destination{Token: "iban_1", UserID: "u-1", Kind: "iban", Currency: "EUR", Last4: "3000", Speeds: "iban"}))
		require.NoError(t, s.DestinationSave(ctx, &models.Destination{Token: "iban_1", UserID: "u-1", Kind: "iban", Currency: "EUR", Last4: "3001", Speeds: "iban"}))
		require.NoError(t, s.DestinationSave(ctx, &models.Destination{Token: "iban_1", UserID: "u-2", Kind: "pix", Currency: "BRL", Last4: "9999", Speeds: "pix"}))
		got, err := s.DestinationGet(ctx, "u-1", "iban_1")
		require.NoError(t, err)
		require.Equal(t, "3001", got.Last4, "Coinflow's later word wins")
		other, err := s.DestinationGet(ctx, "u-2", "iban_1")
		require.NoError(t, err)
		require.Equal(t, "pix", other.Kind, "a token is the withdrawer's own")
		require.True(t, got.Offers("iban"))
		require.False(t, got.Offers("pix"))

		require.True(t, errors.Is(s.DestinationMarkDeleted(ctx, "u-3", "iban_1"), models.ErrNotFound), "another user's token")
		require.NoError(t, s.DestinationMarkDeleted(ctx, "u-1", "iban_1"))
		list, err := s.DestinationsOf(ctx, "u-1")
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.NotNil(t, list[0].DeletedAt)
		_, err = s.DestinationGet(ctx, "u-1", "nope")
		require.ErrorIs(t, err, models.ErrNotFound)
	})
}
