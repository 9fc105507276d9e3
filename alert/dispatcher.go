package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// ErrDestinationRefused is what the dispatcher's HTTP client answers for
// any URL that is not one of the configured sinks'.
var ErrDestinationRefused = errors.New("destination is not a configured alert URL")

// DefaultPagerDutyURL is the PagerDuty Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// DispatcherConfig says where alerts go and how hard to try. Zero values
// take the defaults in NewDispatcher.
type DispatcherConfig struct {
	// SlackWebhookURL, WebhookURL and PagerDutyRoutingKey turn their sinks
	// on. They are secrets: nothing here logs or stores them.
	SlackWebhookURL     string
	WebhookURL          string
	PagerDutyRoutingKey string
	// WebhookSecret ("whsec_" and base64) signs the webhook sink's
	// deliveries with the Standard Webhooks scheme; empty sends them
	// unsigned. A secret too.
	WebhookSecret string
	// PagerDutyURL is the Events API v2 endpoint. Default DefaultPagerDutyURL.
	PagerDutyURL string
	// Timeout bounds each call to a receiver. Default 10s.
	Timeout time.Duration
	// MaxAttempts is how many failed deliveries an alert gets before it is
	// given up. Default 20 (about 12 hours with the default backoff).
	MaxAttempts int
	// MinBackoff is the wait after the first failure, doubling after each
	// one up to MaxBackoff. Defaults 10s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// BatchSize is how many due alerts one pass claims. Default 50.
	BatchSize int
	// Retention is how long delivered and failed alerts are kept. Default 30 days.
	Retention time.Duration
}

// String keeps the configuration's secrets out of any print of it.
func (c DispatcherConfig) String() string {
	return fmt.Sprintf("alert.DispatcherConfig{slack:%t webhook:%t signed:%t pagerduty:%t}",
		c.SlackWebhookURL != "", c.WebhookURL != "", c.WebhookSecret != "", c.PagerDutyRoutingKey != "")
}

// GoString is String.
func (c DispatcherConfig) GoString() string { return c.String() }

// Dispatcher delivers the outbox.
type Dispatcher struct {
	store   *models.Store
	log     *logrus.Entry
	metrics *metrics.Alerts
	cfg     DispatcherConfig
	sinks   map[string]sink

	mu        sync.Mutex // one pass at a time in this process
	lastPrune time.Time
}

// NewDispatcher returns a dispatcher for the configured sinks (the log sink
// is always on). m may be nil.
func NewDispatcher(store *models.Store, log *logrus.Entry, m *metrics.Alerts, cfg DispatcherConfig) (*Dispatcher, error) {
	var errs []error
	if cfg.Timeout < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 || cfg.Retention < 0 || cfg.MaxAttempts < 0 || cfg.BatchSize < 0 {
		errs = append(errs, errors.New("alert dispatcher: a negative setting"))
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.MinBackoff = cmp.Or(cfg.MinBackoff, 10*time.Second)
	cfg.MaxBackoff = cmp.Or(cfg.MaxBackoff, time.Hour)
	cfg.Retention = cmp.Or(cfg.Retention, 30*24*time.Hour)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 20)
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 50)
	cfg.PagerDutyURL = cmp.Or(cfg.PagerDutyURL, DefaultPagerDutyURL)

	allowed := map[string]bool{}
	target := func(name, raw string) string {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: not an http(s) URL", name)) // never quote it: it may be secret
			return ""
		}
		allowed[u.String()] = true
		return u.String()
	}
	var secrets []string
	d := &Dispatcher{store: store, log: log, metrics: m, cfg: cfg, sinks: map[string]sink{SinkLog: logSink{log: log}}}
	p := &poster{redact: func(s string) string { return redactAll(s, secrets) }}
	if cfg.SlackWebhookURL != "" {
		if u := target("slack webhook URL", cfg.SlackWebhookURL); u != "" {
			d.sinks[SinkSlack] = slackSink{url: u, p: p}
			secrets = append(secrets, urlSecrets(cfg.SlackWebhookURL)...)
		}
	}
	if cfg.WebhookURL != "" {
		sink := webhookSink{url: target("webhook URL", cfg.WebhookURL), p: p, now: store.Now}
		if cfg.WebhookSecret != "" {
			key, err := webhookKey(cfg.WebhookSecret)
			if err != nil {
				errs = append(errs, err)
			}
			sink.key = key
			secrets = append(secrets, cfg.WebhookSecret)
		}
		if sink.url != "" {
			d.sinks[SinkWebhook] = sink
			secrets = append(secrets, urlSecrets(cfg.WebhookURL)...)
		}
	}
	if cfg.PagerDutyRoutingKey != "" {
		if u := target("pagerduty URL", cfg.PagerDutyURL); u != "" {
			d.sinks[SinkPagerDuty] = pagerDutySink{url: u, routingKey: cfg.PagerDutyRoutingKey, p: p}
			secrets = append(secrets, cfg.PagerDutyRoutingKey)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("alert sinks: %w", err)
	}
	p.client = guardedClient(allowed, cfg.Timeout)
	return d, nil
}

// Sinks names the sinks this dispatcher delivers to.
func (d *Dispatcher) Sinks() []string {
	out := []string{SinkLog}
	for _, s := range []string{SinkSlack, SinkWebhook, SinkPagerDuty} {
		if _, ok := d.sinks[s]; ok {
			out = append(out, s)
		}
	}
	return out
}

// guardedClient is the only way alerts leave the process: it calls the
// allowed URLs and nothing else, follows no redirect (a 3xx is a failed
// delivery), and gives up on a call after timeout.
func guardedClient(allowed map[string]bool, timeout time.Duration) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.ResponseHeaderTimeout = timeout
	return &http.Client{
		Transport:     allowlist{next: base, allowed: allowed},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type allowlist struct {
	next    http.RoundTripper
	allowed map[string]bool
}

func (a allowlist) RoundTrip(req *http.Request) (*http.Response, error) {
	if !a.allowed[req.URL.String()] {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, ErrDestinationRefused
	}
	return a.next.RoundTrip(req)
}

// urlSecrets is what of a secret URL must never be printed: all of it, and
// its path and query, which carry the token.
func urlSecrets(raw string) []string {
	out := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		if len(u.Path) > 8 {
			out = append(out, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
		}
	}
	return out
}

func redactAll(s string, secrets []string) string {
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}

// DispatchResult counts what one pass did.
type DispatchResult struct {
	Delivered, Failed, GaveUp, Refused, Postponed int
}

func (r *DispatchResult) add(o DispatchResult) {
	r.Delivered += o.Delivered
	r.Failed += o.Failed
	r.GaveUp += o.GaveUp
	r.Refused += o.Refused
	r.Postponed += o.Postponed
}

// lease is how long claimed alerts are kept from other dispatchers: long
// enough for one sink to go through a whole batch at its timeout.
func (d *Dispatcher) lease() time.Duration {
	return d.cfg.Timeout*time.Duration(d.cfg.BatchSize) + time.Minute
}

// DispatchOnce claims the due alerts (a batch at a time, until none is
// due) and delivers them, each sink in its own goroutine. A sink that fails
// an alert keeps the rest of its batch for the failed one's next attempt.
// When ctx ends mid-pass, the alerts not yet delivered are released for the
// next dispatcher, without counting an attempt.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (DispatchResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var total DispatchResult
	for ctx.Err() == nil {
		rows, err := d.store.AlertClaimDue(ctx, d.cfg.BatchSize, d.store.Now().Add(d.lease()))
		if err != nil {
			return total, err
		}
		if len(rows) == 0 {
			break
		}
		bySink := map[string][]models.AlertOutbox{}
		var order []string
		for _, r := range rows {
			if _, ok := bySink[r.Sink]; !ok {
				order = append(order, r.Sink)
			}
			bySink[r.Sink] = append(bySink[r.Sink], r)
		}
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			res DispatchResult
		)
		for _, name := range order {
			wg.Go(func() {
				r := d.deliverSink(ctx, name, bySink[name])
				mu.Lock()
				res.add(r)
				mu.Unlock()
			})
		}
		wg.Wait()
		total.add(res)
		if len(rows) < d.cfg.BatchSize {
			break
		}
	}
	d.prune(ctx)
	return total, ctx.Err()
}

func (d *Dispatcher) deliverSink(ctx context.Context, name string, rows []models.AlertOutbox) DispatchResult {
	var res DispatchResult
	s, ok := d.sinks[name]
	switch name {
	case SinkLog, SinkSlack, SinkWebhook, SinkPagerDuty:
	default:
		// A name no version of payoutd writes: kept out of logs and metric
		// labels, where it could be anything.
		name = "unknown"
	}
	log := d.log.WithField("sink", name)
	for i, row := range rows {
		rlog := log.WithFields(logrus.Fields{"alert_row_id": row.ID, "alert_kind": row.Kind})
		if row.FindingID != nil {
			rlog = rlog.WithField("finding_id", *row.FindingID)
		}
		if !ok {
			// Written by another process or version with other sinks, or
			// tampered with: never sent anywhere this process was not told.
			d.record(rlog, name, metrics.DeliveryRefused, d.store.AlertMarkFailed(ctx, row.ID, row.Attempts, "sink not configured"))
			res.Refused++
			continue
		}
		if ctx.Err() != nil {
			res.Postponed += d.release(ctx, rows[i:])
			return res
		}
		err := d.deliver(ctx, s, row)
		if err != nil && ctx.Err() != nil {
			res.Postponed += d.release(ctx, rows[i:]) // stopping: not the receiver's fault
			return res
		}
		attempts := row.Attempts + 1
		if err == nil {
			// Recorded even when stopping now: the receiver has it.
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			d.record(rlog, name, metrics.DeliveryDelivered, d.store.AlertMarkDelivered(mctx, row.ID, attempts))
			cancel()
			res.Delivered++
			continue
		}
		rlog = rlog.WithFields(logrus.Fields{"attempts": attempts, "error": err.Error()})
		next := d.store.Now().Add(d.backoff(attempts, err))
		if attempts >= d.cfg.MaxAttempts {
			d.record(rlog, name, metrics.DeliveryGaveUp, d.store.AlertMarkFailed(ctx, row.ID, attempts, err.Error()))
			rlog.Error("alert delivery given up")
			res.GaveUp++
		} else {
			d.record(rlog, name, metrics.DeliveryFailed, d.store.AlertRetryLater(ctx, row.ID, attempts, next, err.Error()))
			rlog.WithField("next_attempt_at", next).Warn("alert delivery failed")
			res.Failed++
		}
		// The receiver is failing: the rest of the batch waits for the next
		// attempt rather than hammer it now.
		for _, rest := range rows[i+1:] {
			if perr := d.store.AlertPostpone(ctx, rest.ID, next); perr != nil {
				log.WithError(perr).WithField("alert_row_id", rest.ID).Error("postpone alert")
			}
			res.Postponed++
		}
		return res
	}
	return res
}

// deliver sends one alert with the call timeout.
func (d *Dispatcher) deliver(ctx context.Context, s sink, row models.AlertOutbox) error {
	var a Alert
	if err := json.Unmarshal([]byte(row.Payload), &a); err != nil {
		return &deliveryError{msg: "decode stored alert: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	return s.deliver(ctx, &a)
}

// record counts an outcome and logs a failure to store it.
func (d *Dispatcher) record(log *logrus.Entry, sinkName, outcome string, storeErr error) {
	if d.metrics != nil {
		d.metrics.Deliveries.WithLabelValues(sinkName, outcome).Inc()
	}
	if storeErr != nil {
		log.WithError(storeErr).Error("record alert delivery")
	}
	if outcome == metrics.DeliveryRefused {
		log.Error("alert refused: its sink is not configured")
	}
}

// release makes claimed alerts due now again.
func (d *Dispatcher) release(ctx context.Context, rows []models.AlertOutbox) int {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := d.store.Now()
	for _, r := range rows {
		if err := d.store.AlertPostpone(ctx, r.ID, now); err != nil {
			d.log.WithError(err).WithField("alert_row_id", r.ID).Error("release alert")
		}
	}
	return len(rows)
}

// backoff is MinBackoff doubled per failed attempt, capped at MaxBackoff,
// and never shorter than the receiver's Retry-After.
func (d *Dispatcher) backoff(attempts int, err error) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < attempts && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	if de, ok := errors.AsType[*deliveryError](err); ok && de.retryAfter > b {
		b = de.retryAfter
	}
	return min(b, d.cfg.MaxBackoff)
}

// prune deletes old delivered and failed alerts, at most hourly.
func (d *Dispatcher) prune(ctx context.Context) {
	now := d.store.Now()
	if now.Sub(d.lastPrune) < time.Hour || ctx.Err() != nil {
		return
	}
	d.lastPrune = now
	if n, err := d.store.AlertOutboxPrune(ctx, now.Add(-d.cfg.Retention)); err != nil {
		d.log.WithError(err).Warn("prune alert outbox")
	} else if n > 0 {
		d.log.WithField("rows", n).Info("pruned alert outbox")
	}
}
