package coinflow

import "context"

const opPayout = "delegated payout"

// Quote asks what a payout would cost. It changes nothing at Coinflow, so
// it is retried like a read.
func (c *Client) Quote(ctx context.Context, req QuoteRequest) (*Quote, error) {
	var q Quote
	err := c.do(ctx, request{op: opQuote, method: "POST", path: "/merchant/withdraws/payout/delegated/quote", body: req}, &q)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// Payout initiates a payout from the merchant wallet. Retries resend the
// identical body, so Coinflow sees the same idempotency key and answers a
// replay with the original payout. Errors to branch on: ErrInsufficientFunds
// (402), ErrVerificationRequired (451, with APIError.VerificationLink), and
// APIError.OutcomeUnknown() when the payout may or may not exist.
func (c *Client) Payout(ctx context.Context, req PayoutRequest) (*PayoutResponse, error) {
	if req.IdempotencyKey == "" {
		return nil, &APIError{Op: opPayout, StatusCode: 400, Message: "idempotency key is required"}
	}
	var out PayoutResponse
	err := c.do(ctx, request{op: opPayout, method: "POST", path: "/merchant/withdraws/payout/delegated", body: req}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
