package coinflow

import (
	"context"
	"iter"
	"net/url"
	"strconv"
)

// ListWithdrawersParams filters GET /merchant/withdrawers.
type ListWithdrawersParams struct {
	Blocked *bool
	Search  string
}

func (p ListWithdrawersParams) request() request {
	q := url.Values{}
	if p.Blocked != nil {
		q.Set("blocked", strconv.FormatBool(*p.Blocked))
	}
	if p.Search != "" {
		q.Set("search", p.Search)
	}
	return request{op: opListWithdrawers, method: "GET", path: "/merchant/withdrawers", query: q}
}

// Withdrawers lists the merchant's withdrawers, all of them in memory.
// Coinflow declares no paging for this endpoint: for a merchant with many
// withdrawers use EachWithdrawer.
func (c *Client) Withdrawers(ctx context.Context, p ListWithdrawersParams) ([]Withdrawer, error) {
	var ws []Withdrawer
	err := c.do(ctx, p.request(), &ws)
	return ws, err
}

// EachWithdrawer streams the merchant's withdrawers from the one answer
// Coinflow gives (a bare array, no paging), decoding them one at a time as
// they arrive: memory is one withdrawer, whatever the count. Each
// *Withdrawer is the caller's to keep. The request is retried like a read
// until the first withdrawer arrives; an error after that is yielded once,
// with a nil withdrawer, and ends the sequence, so what was yielded before
// it may be incomplete. A withdrawer over 1 MiB of JSON is an error
// matching ErrMalformedResponse.
func (c *Client) EachWithdrawer(ctx context.Context, p ListWithdrawersParams) iter.Seq2[*Withdrawer, error] {
	return streamArray[Withdrawer](ctx, c, p.request())
}

// GetWithdrawer returns the withdrawer userID with its saved destinations.
// While verification is outstanding Coinflow answers 451: the error matches
// ErrVerificationRequired and carries VerificationLink.
func (c *Client) GetWithdrawer(ctx context.Context, userID string) (*WithdrawerWithAccounts, error) {
	var out struct {
		Withdrawer WithdrawerWithAccounts `json:"withdrawer"`
	}
	if err := c.do(ctx, request{op: opGetWithdrawer, method: "GET", path: "/withdraw", query: url.Values{}, userID: userID}, &out); err != nil {
		return nil, err
	}
	return &out.Withdrawer, nil
}
