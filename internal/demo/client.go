package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the API of the payoutd the demo started.
type Client struct {
	base, token string
	http        *http.Client
}

// NewClient returns a client for the payoutd at baseURL (http://host:port)
// that authenticates with the API token.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	return &Client{base: baseURL, token: token, http: hc}
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber() // cents stay integers
		if err := dec.Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	status, err := c.do(ctx, http.MethodGet, path, nil, out)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", path, status)
	}
	return err
}

// money is an amount as payoutd's API writes it.
type money struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

func (m money) String() string { return formatMoney(m.Cents, m.Currency) }

// apiError is the error part of payoutd's refusals.
type apiError struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// payout is what the script reads of one of payoutd's payouts.
type payout struct {
	Status   string `json:"status"`
	Amount   money  `json:"amount"`
	Coinflow struct {
		Transaction string `json:"transaction"`
	} `json:"coinflow"`
	ExpectedDeliveryAt *time.Time `json:"expected_delivery_at"`
}

// createPayout asks payoutd to pay out and returns its answer and status
// code; a refusal is not an error.
func (c *Client) createPayout(ctx context.Context, user string, amount money, speed, account string) (payout, int, error) {
	var p payout
	status, err := c.do(ctx, http.MethodPost, "/api/v1/payouts", map[string]any{
		"user_id": user, "amount": amount, "speed": speed, "account": account,
	}, &p)
	return p, status, err
}

// withdrawer is what the script reads of one of payoutd's withdrawers.
type withdrawer struct {
	VerificationStatus string  `json:"verification_status"`
	VerificationLink   *string `json:"verification_link"`
	PayoutCurrency     *string `json:"payout_currency"`
	apiError
}

// register asks payoutd to register a withdrawer; a refusal is not an
// error.
func (c *Client) register(ctx context.Context, body map[string]any) (withdrawer, int, error) {
	var w withdrawer
	status, err := c.do(ctx, http.MethodPost, "/api/v1/withdrawers", body, &w)
	return w, status, err
}

// withdrawer returns payoutd's record of withdrawer user.
func (c *Client) withdrawer(ctx context.Context, user string) (withdrawer, error) {
	var w withdrawer
	err := c.get(ctx, "/api/v1/withdrawers/"+url.PathEscape(user), &w)
	return w, err
}

// destination is what the script reads of a saved destination: its token
// and what payoutd shows of the number behind it.
type destination struct {
	Token    string   `json:"token"`
	Type     string   `json:"type"`
	Currency string   `json:"currency"`
	Last4    string   `json:"last4"`
	Speeds   []string `json:"speeds"`
	apiError
}

// saveDestination asks payoutd to save a destination of user; a refusal
// is not an error.
func (c *Client) saveDestination(ctx context.Context, user string, body map[string]any) (destination, int, error) {
	var d destination
	status, err := c.do(ctx, http.MethodPost, "/api/v1/withdrawers/"+url.PathEscape(user)+"/destinations", body, &d)
	return d, status, err
}

// quote is one speed of payoutd's quote.
type quote struct {
	Speed        string `json:"speed"`
	Fee          money  `json:"fee"`
	UserReceives money  `json:"user_receives"`
	WalletDebit  money  `json:"wallet_debit"`
}

// quote asks payoutd what paying amount to account costs, per speed.
func (c *Client) quote(ctx context.Context, user string, amount money, account string) ([]quote, int, error) {
	var q struct {
		Quotes []quote `json:"quotes"`
	}
	status, err := c.do(ctx, http.MethodPost, "/api/v1/quotes", map[string]any{"user_id": user, "amount": amount, "account": account}, &q)
	return q.Quotes, status, err
}

// completeAtLink plays the person on Coinflow's hosted verification page
// pressing Approve: a form POST to the link, as a browser sends it, without
// payoutd's API token. It returns the page's status code.
func (c *Client) completeAtLink(ctx context.Context, link string) (int, error) {
	form := url.Values{"result": {"approved"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, link, strings.NewReader(form))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("complete verification: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// payoutStatus is the status payoutd holds for the payout with Coinflow
// transaction txn; "" while payoutd has no such payout.
func (c *Client) payoutStatus(ctx context.Context, txn string) (string, error) {
	var list struct {
		Payouts []payout `json:"payouts"`
	}
	if err := c.get(ctx, "/api/v1/payouts?transaction="+url.QueryEscape(txn), &list); err != nil {
		return "", err
	}
	if len(list.Payouts) == 0 {
		return "", nil
	}
	return list.Payouts[0].Status, nil
}

// WaitReady polls /readyz until payoutd answers 200, for 30 s at most. It
// gives up at once when stopped delivers: payoutd ended.
func (c *Client) WaitReady(ctx context.Context, stopped <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-stopped:
			return fmt.Errorf("payoutd stopped: %w", err)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
		if resp, err := c.http.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New("payoutd did not become ready in 30s")
}

// Reconcile starts a reconciliation run and waits for it to finish.
func (c *Client) Reconcile(ctx context.Context) (map[string]any, error) {
	var started struct {
		RunID string `json:"run_id"`
	}
	status, err := c.do(ctx, http.MethodPost, "/api/v1/reconcile", nil, &started)
	if err != nil {
		return nil, err
	}
	if status != http.StatusAccepted {
		return nil, fmt.Errorf("start reconciliation: status %d", status)
	}
	for range 600 {
		var run map[string]any
		if err := c.get(ctx, "/api/v1/reconcile/runs/"+started.RunID, &run); err != nil {
			return nil, err
		}
		if run["outcome"] != "running" {
			return run, nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("reconciliation did not finish in 60s")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
