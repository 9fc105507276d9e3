package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

func TestStoreErrorsSayWhetherTheDatabaseIsUnavailable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()

		_, _, err := s.FindingList(ctx, models.FindingFilter{})
		require.NoError(t, err)

		expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		_, _, err = s.FindingList(expired, models.FindingFilter{})
		require.ErrorIs(t, err, models.ErrUnavailable, "no answer before the deadline: %v", err)

		require.NoError(t, s.DB().Exec("DROP TABLE findings").Error)
		_, _, err = s.FindingList(ctx, models.FindingFilter{})
		require.Error(t, err)
		require.NotErrorIs(t, err, models.ErrUnavailable, "a query that fails every time: %v", err)
		require.Contains(t, err.Error(), "findings", "the cause is kept")

		require.NoError(t, s.Close())
		_, _, err = s.FindingList(ctx, models.FindingFilter{})
		require.ErrorIs(t, err, models.ErrUnavailable, "closed: %v", err)
		err = s.Tx(ctx, func(*models.Store) error { return nil })
		require.ErrorIs(t, err, models.ErrUnavailable, "BEGIN on a closed store: %v", err)
		err = s.ReportRead(ctx, func(st *models.Store) error {
			_, err := st.ReportPayouts(ctx, time.Now(), time.Now())
			return err
		})
		require.ErrorIs(t, err, models.ErrUnavailable, "a report on a closed store: %v", err)
	})
}
