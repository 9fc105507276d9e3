package coinflow

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// ListWithdrawsParams selects withdraws. Zero fields do not filter.
type ListWithdrawsParams struct {
	Since, Until time.Time // on createdAt
	Status       string
	Speed        string
	// Limit is the page size (default 100).
	Limit int
	// Ahead is how many pages WithdrawPages and Withdraws may fetch ahead
	// of the one the caller holds, once the list has shown that many
	// pages (see pages); 0 fetches each page only when the caller asks
	// for it.
	Ahead int
}

// DefaultPageLimit is the page size Withdraws asks for by default.
const DefaultPageLimit = 100

func (p ListWithdrawsParams) query(page int) url.Values {
	q := url.Values{}
	if !p.Since.IsZero() {
		q.Set("since", p.Since.UTC().Format(time.RFC3339Nano))
	}
	if !p.Until.IsZero() {
		q.Set("until", p.Until.UTC().Format(time.RFC3339Nano))
	}
	if p.Status != "" {
		q.Set("status", p.Status)
	}
	if p.Speed != "" {
		q.Set("speed", p.Speed)
	}
	q.Set("sortBy", "createdAt")
	q.Set("sortDirection", "1")
	q.Set("page", strconv.Itoa(page))
	q.Set("limit", strconv.Itoa(orDefault(p.Limit, DefaultPageLimit)))
	return q
}

// WithdrawsPage fetches one page (1-based) of GET /merchant/withdraws,
// oldest first. Coinflow answers a bare array with no total: a page shorter
// than the limit is the last.
func (c *Client) WithdrawsPage(ctx context.Context, p ListWithdrawsParams, page int) ([]Withdraw, error) {
	// Room for a full page up front, rather than the copies of a slice
	// grown withdraw by withdraw (a Withdraw is over 600 bytes).
	ws := make(withdrawList, 0, min(orDefault(p.Limit, DefaultPageLimit), maxPageHint))
	err := c.do(ctx, request{op: opListWithdraws, method: "GET", path: "/merchant/withdraws", query: p.query(page)}, &ws)
	if err != nil {
		return nil, err
	}
	return ws, nil
}

// maxPageHint bounds the room made up front for a page: a limit far above
// what Coinflow serves must not cost its size in memory.
const maxPageHint = 1000

// WithdrawPages streams the pages of withdraws matching p, p.Ahead of them
// fetched ahead (pages). The sequence ends after the first error, which it
// yields with a nil page.
func (c *Client) WithdrawPages(ctx context.Context, p ListWithdrawsParams) iter.Seq2[[]Withdraw, error] {
	return pages(ctx, p.Ahead, func(ctx context.Context, page int) ([]Withdraw, error) { return c.WithdrawsPage(ctx, p, page) })
}

// Withdraws streams every withdraw matching p, page by page: memory is one
// page (and the p.Ahead fetched ahead), never the history. The sequence
// ends after the first error, which it yields with a zero Withdraw.
func (c *Client) Withdraws(ctx context.Context, p ListWithdrawsParams) iter.Seq2[Withdraw, error] {
	return items(c.WithdrawPages(ctx, p))
}

// GetWithdraw fetches one withdraw by transaction signature or transfer id.
// ErrNotFound when Coinflow does not know it.
func (c *Client) GetWithdraw(ctx context.Context, id string) (*Withdraw, error) {
	var out struct {
		Withdrawal Withdraw `json:"withdrawal"`
	}
	err := c.do(ctx, request{op: opGetWithdraw, method: "GET", path: "/merchant/withdraws/" + url.PathEscape(id)}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Withdrawal, nil
}

// Balance returns the Coinflow wallet balance in USD cents.
func (c *Client) Balance(ctx context.Context) (int64, error) {
	var out struct {
		Balance struct {
			Cents int64 `json:"cents"`
		} `json:"balance"`
	}
	if err := c.do(ctx, request{op: opBalance, method: "GET", path: "/merchant/withdraws/payout/balance"}, &out); err != nil {
		return 0, err
	}
	return out.Balance.Cents, nil
}
