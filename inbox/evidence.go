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

// Evidence is what the rail event stored as inbox event id says about p,
// the payout its withdrawId names. It speaks of p by p's own transaction
// (or, before p has one, its idempotency key), since the withdrawId may be
// p's transfer id; its amount is the rail's, not the payout's, and is not
// evidence.
func (e *RailEvent) Evidence(id int64, p *models.Payout) decide.Withdrawal {
	return decide.Withdrawal{
		Source: models.SourceWebhook, InboxEventID: &id,
		Transaction: models.Deref(p.CoinflowTransaction), IdempotencyKey: models.Deref(p.IdempotencyKey), UserID: p.UserID,
		Status: e.Status, Detail: e.Detail, CoinflowStatus: e.Type, At: e.Created,
	}
}

// candidates are the decide candidates for p alone.
func railCandidates(p *models.Payout) models.PayoutCandidates {
	var c models.PayoutCandidates
	if p.CoinflowTransaction != nil {
		c.ByTransaction = p
	} else {
		c.ByKey = p
	}
	return c
}
