package coinflow

import (
	"context"
	"net/url"
	"strconv"
)

// ListWithdrawersParams filters GET /merchant/withdrawers.
type ListWithdrawersParams struct {
	Blocked *bool
	Search  string
}

// Withdrawers lists the merchant's withdrawers. Coinflow declares no paging
// for this endpoint.
func (c *Client) Withdrawers(ctx context.Context, p ListWithdrawersParams) ([]Withdrawer, error) {
	q := url.Values{}
	if p.Blocked != nil {
		q.Set("blocked", strconv.FormatBool(*p.Blocked))
	}
	if p.Search != "" {
		q.Set("search", p.Search)
	}
	var ws []Withdrawer
	err := c.do(ctx, request{op: "list withdrawers", method: "GET", path: "/merchant/withdrawers", query: q}, &ws)
	return ws, err
}

// GetWithdrawer returns the withdrawer userID with its saved destinations.
// While verification is outstanding Coinflow answers 451: the error matches
// ErrVerificationRequired and carries VerificationLink.
func (c *Client) GetWithdrawer(ctx context.Context, userID string) (*WithdrawerWithAccounts, error) {
	var out struct {
		Withdrawer WithdrawerWithAccounts `json:"withdrawer"`
	}
	if err := c.do(ctx, request{op: "get withdrawer", method: "GET", path: "/withdraw", query: url.Values{}, userID: userID}, &out); err != nil {
		return nil, err
	}
	return &out.Withdrawer, nil
}
