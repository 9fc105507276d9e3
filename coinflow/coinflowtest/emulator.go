package coinflowtest

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Default option values.
const (
	DefaultAPIKey     = "test-api-key"
	DefaultMerchantID = "acme-payouts"
	DefaultPageLimit  = 50
	DefaultPageMax    = 100
)

// defaultStart is the emulator clock's default start: the fixtures' day.
var defaultStart = time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)

// Lifecycle is how long a payout of each speed stays pending before it
// completes, on the emulator clock. Missing speeds keep their defaults:
// asap and card 3m, pix 5m, venmo and paypal 10m, interac 30m, same_day 7h
// (14:00 -> 21:00 on the fixtures' day), iban, eft and wire 24h, standard
// 48h ("1-3 business days").
type Lifecycle map[string]time.Duration

var defaultLifecycle = Lifecycle{
	SpeedASAP:     3 * time.Minute,
	SpeedCard:     3 * time.Minute,
	SpeedSameDay:  7 * time.Hour,
	SpeedStandard: 48 * time.Hour,
	SpeedIBAN:     24 * time.Hour,
	SpeedPIX:      5 * time.Minute,
	SpeedEFT:      24 * time.Hour,
	SpeedVenmo:    10 * time.Minute,
	SpeedPayPal:   10 * time.Minute,
	SpeedWire:     24 * time.Hour,
	SpeedInterac:  30 * time.Minute,
}

// defaultFees are the merchant fees in cents per speed (the fixtures'
// quote). Speeds missing here and from Options.Fees cost nothing and are
// quoted as unavailable.
var defaultFees = map[string]int64{
	SpeedASAP:     250,
	SpeedSameDay:  150,
	SpeedStandard: 50,
	SpeedCard:     99,
	SpeedIBAN:     100, // [ASSUMED] no published fee: USD cents
	SpeedPIX:      50,  // [ASSUMED] likewise
}

// RetryPolicy is the webhook retry schedule, in real time: attempt n+1
// waits Initial*2^(n-1), capped at Max, and no attempt starts later than
// GiveUpAfter after the first one.
type RetryPolicy struct {
	Initial     time.Duration // default 1s
	Max         time.Duration // default 1h
	GiveUpAfter time.Duration // default 36h (Coinflow's documented limit)
	Timeout     time.Duration // per attempt, default 5s (Coinflow's documented limit)
}

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// APIKey is the Authorization value every /merchant/*, /withdraw* and
	// /_sim/* request must carry. Default DefaultAPIKey.
	APIKey string
	// MerchantID is the merchant slug of webhooks and wallets. Default
	// DefaultMerchantID.
	MerchantID string
	// MerchantObjectID is the merchant's 24-hex _id, the "merchant" field of
	// withdraws and withdrawers. Default: derived from Seed.
	MerchantObjectID string
	// SettlementWallet is the Solana address of the merchant's Coinflow
	// wallet, the "wallet" of withdraws and Withdraw webhooks. Default:
	// derived from Seed.
	SettlementWallet string
	// WebhookURL receives the webhooks; "" records them without sending.
	// SetWebhookURL changes it later.
	WebhookURL string
	// WebhookKey is the Webhook Validation Key: sent as Authorization and
	// used for Coinflow-Signature.
	WebhookKey string
	// SignNowFunc gives the time a webhook attempt is signed with
	// (Coinflow-Signature t=). Default time.Now: real send time, so a
	// receiver's tolerance window applies as in production.
	SignNowFunc func() time.Time
	// Seed makes ids deterministic: the same calls in the same order give
	// the same signatures, transferIds and _ids.
	Seed int64
	// Start is the emulator clock's start, default 2025-06-02T14:00:00Z.
	// The clock moves only through Advance and SetNow.
	Start time.Time
	// InitialBalanceCents is the Coinflow wallet balance (USD cents).
	InitialBalanceCents int64
	// Fees override the merchant fee in USD cents per speed (defaults:
	// asap 250, same_day 150, standard 50, card 99, iban 100, pix 50,
	// others 0); a speed listed here is quoted as available, as the six
	// defaults are.
	Fees map[string]int64
	// ExchangeRates override the usdToForeignExchangeRate per currency:
	// USD per 1 unit, as a decimal string (defaults EUR "1.08", GBP
	// "1.27", BRL "0.18"; USD is always "1" and a USD entry is ignored).
	// IBAN and PIX payouts are debited from the USD wallet at these rates
	// (see priceLocked). New panics on a rate that is not a positive
	// decimal.
	ExchangeRates map[string]string
	// Lifecycle overrides the pending duration per speed.
	Lifecycle Lifecycle
	// WebhookRetry is the delivery retry schedule.
	WebhookRetry RetryPolicy
	// BlockedStatus answers a payout to a blocked withdrawer: 403 by
	// default, with {"msg":"User is blocked"} (the docs' message; the status
	// is not documented). 451 sends the verification body instead; any
	// other status sends the {"msg"} body with it.
	BlockedStatus int
	// PageLimitMax caps limit on the list endpoints, default DefaultPageMax.
	// A larger limit is clamped, not refused.
	PageLimitMax int
	// EnforceRateLimits answers 429 {"msg":"Too many requests"} with
	// Retry-After to calls beyond Coinflow's documented limits, on the
	// emulator clock: more than KYCRateLimit KYC calls (POST /withdraw/kyc,
	// GET /withdraw answered 451) in any KYCRateWindow, more than
	// NotFoundRateLimit 404 answers in any NotFoundRateWindow. Off by
	// default; RateLimitStats counts either way.
	EnforceRateLimits bool
	// BaseURL is the URL the emulator is served at, without a trailing
	// slash. With it, verificationLinks point at the emulator's hosted
	// verification page (GET/POST {BaseURL}/_sim/kyc/{reference}) instead
	// of the vendors' hosts. NewServer sets it.
	BaseURL string
	// HTTPClient delivers webhooks. Default: a client of its own that does
	// not follow redirects.
	HTTPClient *http.Client
}

// Emulator is an in-memory Coinflow payouts API and webhook sender. It
// implements http.Handler; all its methods are safe for concurrent use.
type Emulator struct {
	opts      Options
	fees      map[string]int64
	available map[string]bool
	rates     map[string]exchangeRate
	// sessionSecret signs session keys.
	sessionSecret []byte
	lifecycle     Lifecycle
	mux           *http.ServeMux
	ids           ids

	mu sync.Mutex // guards the state below; taken before hooks.mu
	state

	faults faultSet
	hooks  *hooks

	closed chan struct{}      // closed by Close: ends pending hangs and waits
	stop   context.CancelFunc // cancels the deliveries' context
	wg     sync.WaitGroup
	once   sync.Once
}

// New returns an Emulator and starts its webhook sender; Close stops it.
func New(opts Options) *Emulator {
	opts.APIKey = cmp.Or(opts.APIKey, DefaultAPIKey)
	opts.MerchantID = cmp.Or(opts.MerchantID, DefaultMerchantID)
	if opts.Start.IsZero() {
		opts.Start = defaultStart
	}
	opts.Start = opts.Start.UTC()
	opts.PageLimitMax = cmp.Or(opts.PageLimitMax, DefaultPageMax)
	opts.BlockedStatus = cmp.Or(opts.BlockedStatus, http.StatusForbidden)
	if opts.SignNowFunc == nil {
		opts.SignNowFunc = time.Now
	}
	r := &opts.WebhookRetry
	r.Initial = cmp.Or(r.Initial, time.Second)
	r.Max = max(cmp.Or(r.Max, time.Hour), r.Initial)
	r.GiveUpAfter = cmp.Or(r.GiveUpAfter, 36*time.Hour)
	r.Timeout = cmp.Or(r.Timeout, 5*time.Second)

	e := &Emulator{opts: opts, ids: newIDs(opts.Seed)}
	e.opts.MerchantObjectID = cmp.Or(opts.MerchantObjectID, e.ids.object.objectID(opts.Start))
	e.opts.SettlementWallet = cmp.Or(opts.SettlementWallet, e.ids.wallet.address())

	e.fees = maps.Clone(defaultFees)
	e.available = map[string]bool{}
	for s := range defaultFees {
		e.available[s] = true
	}
	for s, c := range opts.Fees {
		e.fees[s] = c
		e.available[s] = true
	}
	e.rates = newRates(opts.ExchangeRates)
	e.sessionSecret = e.ids.session.bytes(32)
	e.lifecycle = maps.Clone(defaultLifecycle)
	maps.Copy(e.lifecycle, opts.Lifecycle)

	e.state = newState(opts.Start, opts.InitialBalanceCents)
	e.baseURL = strings.TrimRight(opts.BaseURL, "/")
	ctx, stop := context.WithCancel(context.Background())
	e.closed, e.stop = make(chan struct{}), stop
	e.hooks = newHooks(opts, e.ids.webhookSeed)
	e.routes()
	e.wg.Add(1)
	go e.dispatch(ctx)
	return e
}

// ServeHTTP serves the Coinflow API at the documented paths relative to the
// base URL (GET /merchant/withdraws, ...) and the control surface under
// /_sim/. A leading /api, as in Coinflow's real base URLs, is accepted too.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/"); ok {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + rest
		r2.URL.RawPath = ""
		r = r2
	}
	e.mux.ServeHTTP(w, r)
}

// Close stops webhook delivery (in-flight attempts are abandoned) and ends
// pending API hangs. It is idempotent.
func (e *Emulator) Close() {
	e.once.Do(func() {
		e.stop()
		close(e.closed)
		e.hooks.wake()
		e.wg.Wait()
		e.hooks.closeIdle()
	})
}

// APIKey returns the Authorization value the emulator accepts.
func (e *Emulator) APIKey() string { return e.opts.APIKey }

// MerchantID returns the merchant slug.
func (e *Emulator) MerchantID() string { return e.opts.MerchantID }

// MerchantObjectID returns the merchant's 24-hex _id.
func (e *Emulator) MerchantObjectID() string { return e.opts.MerchantObjectID }

// SettlementWallet returns the merchant's Coinflow wallet address.
func (e *Emulator) SettlementWallet() string { return e.opts.SettlementWallet }

// Server is an Emulator listening on a local port, like httptest.Server.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, without a trailing slash:
	// the Coinflow client's base URL.
	URL string
	*Emulator
	srv *httptest.Server
}

// NewServer starts an Emulator on 127.0.0.1 on a free port; its
// verificationLinks point at itself (Options.BaseURL is overridden).
func NewServer(opts Options) *Server {
	e := New(opts)
	srv := httptest.NewServer(e)
	e.mu.Lock()
	e.baseURL = srv.URL
	e.mu.Unlock()
	return &Server{URL: srv.URL, Emulator: e, srv: srv}
}

// Client returns an HTTP client set up for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops webhook delivery, then shuts the listener down and waits for
// outstanding requests.
func (s *Server) Close() {
	s.Emulator.Close()
	s.srv.Close()
}
