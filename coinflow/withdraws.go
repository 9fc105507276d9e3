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
	var ws []Withdraw
	err := c.do(ctx, request{op: "list withdraws", method: "GET", path: "/merchant/withdraws", query: p.query(page)}, &ws)
	return ws, err
}

// WithdrawPages streams the pages of withdraws matching p (pages). The
// sequence ends after the first error, which it yields with a nil page.
func (c *Client) WithdrawPages(ctx context.Context, p ListWithdrawsParams) iter.Seq2[[]Withdraw, error] {
	return pages(func(page int) ([]Withdraw, error) { return c.WithdrawsPage(ctx, p, page) })
}

// Withdraws streams every withdraw matching p, page by page: memory is one
// page, never the history. The sequence ends after the first error, which
// it yields with a zero Withdraw.
func (c *Client) Withdraws(ctx context.Context, p ListWithdrawsParams) iter.Seq2[Withdraw, error] {
	return items(c.WithdrawPages(ctx, p))
}

// pages streams the 1-based pages fetch returns. Coinflow's lists give no
// total and may cap the page size below the limit asked for, so a short
// page ends the stream only when a longer one was seen before; otherwise
// one more page is asked for, and an empty page ends it. The sequence ends
// after the first error, which it yields with a nil page.
func pages[T any](fetch func(page int) ([]T, error)) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		longest := 0
		for page := 1; ; page++ {
			ts, err := fetch(page)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(ts) == 0 || !yield(ts, nil) || len(ts) < longest {
				return
			}
			longest = max(longest, len(ts))
		}
	}
}

// items streams the elements of a stream of pages; an error is yielded
// once, with a zero element, and ends it.
func items[T any](ps iter.Seq2[[]T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for ts, err := range ps {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for i := range ts {
				if !yield(ts[i], nil) {
					return
				}
			}
		}
	}
}

// GetWithdraw fetches one withdraw by transaction signature or transfer id.
// ErrNotFound when Coinflow does not know it.
func (c *Client) GetWithdraw(ctx context.Context, id string) (*Withdraw, error) {
	var out struct {
		Withdrawal Withdraw `json:"withdrawal"`
	}
	err := c.do(ctx, request{op: "get withdraw", method: "GET", path: "/merchant/withdraws/" + url.PathEscape(id)}, &out)
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
	if err := c.do(ctx, request{op: "payout balance", method: "GET", path: "/merchant/withdraws/payout/balance"}, &out); err != nil {
		return 0, err
	}
	return out.Balance.Cents, nil
}
