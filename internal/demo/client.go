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

// payout is what the script reads of one of payoutd's payouts.
type payout struct {
	Status   string `json:"status"`
	Coinflow struct {
		Transaction string `json:"transaction"`
	} `json:"coinflow"`
	ExpectedDeliveryAt *time.Time `json:"expected_delivery_at"`
}

// createPayout asks payoutd to pay out and returns its answer and status
// code; a refusal is not an error.
func (c *Client) createPayout(ctx context.Context, user string, cents int64, speed, account string) (payout, int, error) {
	var p payout
	status, err := c.do(ctx, http.MethodPost, "/api/v1/payouts", map[string]any{
		"user_id": user, "amount": map[string]any{"cents": cents, "currency": "USD"}, "speed": speed, "account": account,
	}, &p)
	return p, status, err
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
