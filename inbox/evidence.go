package inbox

import (
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// Evidence is what the withdraw event stored as inbox event id says.
func (e *WithdrawEvent) Evidence(id int64) decide.Withdrawal {
	return decide.Withdrawal{
		Source: models.SourceWebhook, InboxEventID: &id,
		Transaction: e.Signature, IdempotencyKey: e.IdempotencyKey, UserID: e.UserID,
		Status: e.Status, Detail: e.Detail, At: e.Created,
		Amount: e.Total, UserFees: e.UserFees, MerchantFees: e.MerchantFees,
	}
}

// Evidence is what the KYC event stored as inbox event id says.
func (e *KYCEvent) Evidence(id int64) decide.Verification {
	return decide.Verification{
		Source: models.SourceWebhook, InboxEventID: &id,
		UserID: e.UserID, Wallet: e.Wallet, Blockchain: e.Blockchain, EmailMasked: e.EmailMasked,
		Status: e.Status, At: e.Created,
	}
}
