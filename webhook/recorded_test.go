package webhook_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// TestStoredEventRecordsHowAndWhat: each stored webhook keeps how it was
// authenticated and the withdrawal and user it names, for the event log.
func TestStoredEventRecordsHowAndWhat(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		srv := testserver.Start(t, store, testserver.Options{})
		status, _ := srv.PostSigned(t, readFixture(t, pendingFx))
		require.Equal(t, http.StatusOK, status)
		status, _ = srv.PostWebhook(t, readFixture(t, kycFx), map[string]string{"Authorization": testserver.WebhookKey})
		require.Equal(t, http.StatusOK, status)

		var evs []models.InboxEvent
		require.NoError(t, store.DB().Order("id").Find(&evs).Error)
		require.Len(t, evs, 2)
		require.Equal(t, models.AuthSignature, models.Deref(evs[0].AuthMethod))
		require.Equal(t, models.AuthKeyCurrent, models.Deref(evs[0].AuthKey))
		require.NotEmpty(t, models.Deref(evs[0].SubjectTransaction), "the withdrawal's signature")
		require.NotEmpty(t, models.Deref(evs[0].SubjectUserID))
		require.Equal(t, models.AuthAuthorization, models.Deref(evs[1].AuthMethod))
		require.Nil(t, evs[1].SubjectTransaction, "a KYC event names no withdrawal")
		require.NotEmpty(t, models.Deref(evs[1].SubjectUserID), "the user from the KYC wallet")
	})
}
