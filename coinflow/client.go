package coinflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Config configures a Client. Zero values take the defaults in New.
type Config struct {
	BaseURL string // e.g. https://api-sandbox.coinflow.cash/api
	APIKey  string // the merchant API key; required
	// HTTPClient defaults to a client with its own transport; its Timeout
	// is not used (Timeout below bounds each attempt).
	HTTPClient *http.Client
	// Timeout bounds one attempt, from sending to the end of the body
	// (default 15s).
	Timeout time.Duration
	// MaxAttempts bounds attempts per call, the first included (default 4).
	MaxAttempts int
	// BaseBackoff is the first retry's delay, doubled per retry up to
	// MaxBackoff, with full jitter (defaults 250ms, 8s). A Retry-After
	// from the server replaces the computed delay, capped at MaxRetryAfter
	// (default 60s); a longer one ends the retries.
	BaseBackoff, MaxBackoff, MaxRetryAfter time.Duration
	// SleepFunc waits between attempts (default: a timer that honours ctx).
	SleepFunc func(ctx context.Context, d time.Duration) error
	// Observer is told of every attempt, retry and rate-limit wait
	// (default: nobody).
	Observer Observer
}

// Client calls Coinflow. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	apiKey string
	http   *http.Client
	cfg    Config
}

// maxBody bounds a response body read into memory: a page of withdraws at
// the largest limit is far below it.
const maxBody = 32 << 20

// New returns a client, or ErrNoAPIKey when the key is empty.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, ErrNoAPIKey
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("coinflow base url %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 0, ForceAttemptHTTP2: true,
		}}
	}
	cfg.Timeout = orDefault(cfg.Timeout, 15*time.Second)
	cfg.MaxAttempts = orDefault(cfg.MaxAttempts, 4)
	cfg.BaseBackoff = orDefault(cfg.BaseBackoff, 250*time.Millisecond)
	cfg.MaxBackoff = orDefault(cfg.MaxBackoff, 8*time.Second)
	cfg.MaxRetryAfter = orDefault(cfg.MaxRetryAfter, 60*time.Second)
	if cfg.SleepFunc == nil {
		cfg.SleepFunc = Sleep
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Client{base: base, apiKey: cfg.APIKey, http: cfg.HTTPClient, cfg: cfg}, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Sleep waits d or until ctx ends, whichever comes first: the wait between
// attempts, and for callers that pace their own calls to Coinflow.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request is one logical call, possibly sent several times.
type request struct {
	op     string
	method string
	path   string
	query  url.Values
	body   any
	userID string // x-coinflow-auth-user-id, for /withdraw endpoints
	// accept lists non-2xx statuses whose body is an answer, decoded into
	// out like a 2xx one (KYC's 451 carries the withdrawer).
	accept []int
	// retry decides whether a failed attempt is sent again; nil means
	// APIError.Retryable. State-changing calls without an idempotency key
	// narrow it to failures that cannot have taken effect.
	retry func(*APIError) bool
	// secrets are request values (PII, account numbers, keys) to cut out
	// of Coinflow's error text should it echo one of them.
	secrets []string
}

// do sends r, retrying what may succeed later, and decodes a 2xx body into
// out. The request body is marshalled once, so every attempt sends the same
// bytes (for the payout: the same idempotency key).
func (c *Client) do(ctx context.Context, r request, out any) error {
	_, err := c.doStatus(ctx, r, out)
	return err
}

// doStatus is do that also returns the status of the answer decoded, for
// calls with accepted non-2xx statuses.
func (c *Client) doStatus(ctx context.Context, r request, out any) (int, error) {
	target, body, err := c.prepare(r)
	if err != nil {
		return 0, err
	}
	var status int
	err = c.retrying(ctx, r, func() error {
		var err error
		status, err = c.attempt(ctx, r, target, body, out)
		return err
	})
	return status, err
}

// prepare marshals r's body once and builds its URL.
func (c *Client) prepare(r request) (target string, body []byte, err error) {
	if r.body != nil {
		if body, err = json.Marshal(r.body); err != nil {
			return "", nil, fmt.Errorf("coinflow %s: encode request: %w", r.op, err)
		}
	}
	// r.path is already escaped (ids are escaped by the operation), so it is
	// set as the raw path and not escaped a second time.
	u := *c.base
	u.RawPath = c.base.EscapedPath() + r.path
	path, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return "", nil, fmt.Errorf("coinflow %s: bad path: %w", r.op, err)
	}
	u.Path = path
	u.RawQuery = r.query.Encode()
	return u.String(), body, nil
}

// retrying runs try, the sending of one attempt, until it succeeds, fails
// in a way r's retry policy does not retry, or MaxAttempts is reached,
// waiting between attempts. It returns nil, an *APIError with Attempts
// set, or the caller's context error.
func (c *Client) retrying(ctx context.Context, r request, try func() error) error {
	retryable := r.retry
	if retryable == nil {
		retryable = (*APIError).Retryable
	}
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		apiErr, ok := errors.AsType[*APIError](err)
		if !ok {
			return err // the caller's context ended
		}
		apiErr.Attempts = attempt
		if !retryable(apiErr) || attempt >= c.cfg.MaxAttempts {
			return apiErr
		}
		wait := c.backoff(attempt)
		if apiErr.RetryAfter > 0 {
			if apiErr.RetryAfter > c.cfg.MaxRetryAfter {
				return apiErr
			}
			wait = apiErr.RetryAfter
		}
		op := metricOp(r.op)
		c.cfg.Observer.Retry(op)
		if apiErr.StatusCode == http.StatusTooManyRequests {
			c.cfg.Observer.RateLimitWait(op, wait)
		}
		if err := c.cfg.SleepFunc(ctx, wait); err != nil {
			return err // the caller's context ended while waiting
		}
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BaseBackoff << min(attempt-1, 20)
	if d <= 0 || d > c.cfg.MaxBackoff {
		d = c.cfg.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond
}

// attempt sends once and reads the whole body. It returns the answer's
// status and nil, an *APIError, or ctx's error when the caller's context
// ended (not retried).
func (c *Client) attempt(ctx context.Context, r request, target string, body []byte, out any) (int, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.send(ctx, actx, r, target, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf := bodies.Get().(*bytes.Buffer)
	defer recycle(buf)
	data, err := readBody(ctx, r, resp, buf)
	if err != nil {
		return 0, err
	}
	if out == nil {
		return resp.StatusCode, nil
	}
	if d, ok := out.(bodyDecoder); ok {
		err = d.decodeBody(data)
	} else {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		// A truncated or garbled answer: the call may have worked, but we
		// cannot know what it said. Status 0 marks it retryable.
		return 0, &APIError{Op: r.op, Err: fmt.Errorf("%w: %v", ErrMalformedResponse, err)}
	}
	return resp.StatusCode, nil
}

// send sends once under actx and returns the answer with its body unread
// when the status is 2xx or one r accepts; the caller closes the body. Any
// other answer is read and returned as an *APIError. ctx is the caller's,
// to tell its end (returned as is) from the end of actx (an *APIError).
func (c *Client) send(ctx, actx context.Context, r request, target string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, rd)
	if err != nil {
		return nil, &APIError{Op: r.op, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Authorization", c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.userID != "" {
		req.Header.Set("x-coinflow-auth-user-id", r.userID)
		req.Header.Set("x-coinflow-auth-blockchain", "solana")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up: nothing to say of Coinflow
		}
		c.cfg.Observer.Response(metricOp(r.op), ClassError, time.Since(start))
		return nil, &APIError{Op: r.op, Err: scrub(err)}
	}
	c.cfg.Observer.Response(metricOp(r.op), classOf(resp.StatusCode), time.Since(start))
	if (resp.StatusCode >= 200 && resp.StatusCode <= 299) || slices.Contains(r.accept, resp.StatusCode) {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := readBody(ctx, r, resp, new(bytes.Buffer))
	if err != nil {
		return nil, err
	}
	return nil, errorFrom(r.op, resp, data, r.secrets...)
}

// bodyDecoder is an answer that decodes itself from the body, to what
// encoding/json would make of it, at less cost (withdrawList).
type bodyDecoder interface {
	decodeBody(data []byte) error
}

// bodies recycles the buffers answers are read into: decoding copies what
// it keeps, so a buffer is free again once its answer is decoded. A page
// of withdraws is about 100 KB; a buffer grown past maxPooledBody is left
// to the garbage collector rather than kept.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 4 << 20

func recycle(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodies.Put(buf)
	}
}

// readBody reads resp's body into buf, at most maxBody bytes of it, and
// returns buf's bytes.
func readBody(ctx context.Context, r request, resp *http.Response, buf *bytes.Buffer) ([]byte, error) {
	buf.Reset()
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	data := buf.Bytes()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &APIError{Op: r.op, Err: fmt.Errorf("read response: %w", scrub(err))}
	}
	if len(data) > maxBody {
		return nil, &APIError{Op: r.op, StatusCode: resp.StatusCode, Err: fmt.Errorf("%w: body over %d bytes", ErrMalformedResponse, maxBody)}
	}
	return data, nil
}

// scrub keeps the URL (and so nothing of the query) out of a transport
// error's text.
func scrub(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// errorFrom reads a non-2xx answer. Any of secrets found in Coinflow's text
// is replaced before the text is kept.
func errorFrom(op string, resp *http.Response, data []byte, secrets ...string) *APIError {
	e := &APIError{Op: op, StatusCode: resp.StatusCode}
	var body struct {
		Msg              string `json:"msg"`
		Message          string `json:"message"`
		VerificationLink string `json:"verificationLink"`
		Verification     struct {
			Status string `json:"status"`
		} `json:"verification"`
	}
	// Most error bodies are {msg}; a few are a bare JSON string (426 on
	// POST /withdraw/iban).
	var text string
	if json.Unmarshal(data, &text) == nil {
		e.Message = text
	} else if json.Unmarshal(data, &body) == nil {
		e.Message = body.Msg
		if e.Message == "" {
			e.Message = body.Message
		}
		e.VerificationLink = body.VerificationLink
		e.VerificationStatus = body.Verification.Status
	}
	e.Message = redact(e.Message, secrets)
	if len(e.Message) > 200 {
		e.Message = e.Message[:200]
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// redact replaces each secret of four characters or more found in text
// (shorter ones would cut ordinary words out of the message).
func redact(text string, secrets []string) string {
	for _, s := range secrets {
		if utf8.RuneCountInString(s) >= 4 && strings.Contains(text, s) {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	return text
}
