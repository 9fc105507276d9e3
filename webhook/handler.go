package webhook

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// MaxBodyBytes is the largest webhook accepted (413 above).
const MaxBodyBytes = 1 << 20

// HandlerConfig configures the webhook endpoint.
type HandlerConfig struct {
	// Key is the Webhook Validation Key; empty answers 503 until set.
	Key []byte
	// PreviousKey (coinflow.webhook_previous_key), when set, is accepted
	// beside Key under both schemes while the key is rotated at Coinflow.
	PreviousKey []byte
	// Tolerance bounds |now - t| of a Coinflow-Signature (default 5m).
	Tolerance time.Duration
	// AnswerTimeout bounds the wait for the durable commit (default 4s:
	// Coinflow counts an answer after 5s as a failure).
	AnswerTimeout time.Duration
	// LogPerSecond bounds the info lines about successful deliveries, by
	// NowFunc's clock (default 10); the rest are counted in one line.
	LogPerSecond int
	NowFunc      func() time.Time
}

// Handler is POST /webhooks/coinflow. It authenticates the raw bytes,
// derives the event's key, commits the raw event and only then answers 200;
// applying the event to payouts is the Applier's job, off the request path.
type Handler struct {
	committer *Committer
	metrics   *metrics.Metrics
	log       *logrus.Entry
	cfg       HandlerConfig
	delivered *sampler // the log lines about successful deliveries
	rejected  *sampler // the log lines about refused ones: anyone can send those

	// previousLog limits the log line about the previous key to one an
	// hour by the handler's clock; previousSince counts what it summarises.
	previousMu      sync.Mutex
	previousLogged  time.Time
	previousSince   int
	previousLogging bool
}

// previousKeyLogEvery is how often, at most, an acceptance under the
// previous key is logged (each one is counted).
const previousKeyLogEvery = time.Hour

// NewHandler returns the webhook handler.
func NewHandler(committer *Committer, m *metrics.Metrics, log *logrus.Entry, cfg HandlerConfig) (*Handler, error) {
	if cfg.Tolerance < 0 || cfg.AnswerTimeout < 0 || cfg.LogPerSecond < 0 {
		return nil, errors.New("webhook handler: a negative setting")
	}
	if len(cfg.PreviousKey) > 0 && string(cfg.PreviousKey) == string(cfg.Key) {
		return nil, errors.New("webhook handler: the previous key equals the current key")
	}
	cfg.Tolerance = cmp.Or(cfg.Tolerance, 5*time.Minute)
	cfg.AnswerTimeout = cmp.Or(cfg.AnswerTimeout, 4*time.Second)
	cfg.LogPerSecond = cmp.Or(cfg.LogPerSecond, 10)
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	for _, c := range failureCauses {
		m.WebhookAuthFailures.WithLabelValues(c)
	}
	for _, s := range []string{models.AuthSignature, models.AuthAuthorization} {
		m.WebhooksPreviousKey.WithLabelValues(s)
	}
	return &Handler{committer: committer, metrics: m, log: log, cfg: cfg, delivered: newSampler(cfg.LogPerSecond, cfg.NowFunc),
		rejected: newSampler(cfg.LogPerSecond, cfg.NowFunc)}, nil
}

// ackResponse is the body of a 200.
type ackResponse struct {
	Status string `json:"status"` // "stored" or "duplicate"
}

// Handle handles one delivery. It is a gin.HandlerFunc, not an http.Handler.
func (h *Handler) Handle(c *gin.Context) {
	if len(h.cfg.Key) == 0 {
		h.count("", "not_configured")
		respond.Error(c, http.StatusServiceUnavailable, "not_configured", "webhook key not configured")
		return
	}
	// A declared length over the limit is refused before reading, so the
	// sender is not kept waiting while it uploads a body we would drop.
	// MaxBytesReader still catches a body with no or a false length.
	if c.Request.ContentLength > MaxBodyBytes {
		h.tooLarge(c)
		return
	}
	body, err := readBody(c)
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			h.tooLarge(c)
			return
		}
		h.count("", "bad_request")
		respond.Error(c, http.StatusBadRequest, "bad_request", "could not read the request body")
		return
	}
	method, key, err := h.authenticate(c.Request, body)
	if err != nil {
		cause := failureCause(err)
		h.count("", "unauthenticated")
		h.metrics.WebhookAuthFailures.WithLabelValues(cause).Inc()
		h.logRejected(c, cause, err)
		respond.Error(c, http.StatusUnauthorized, "unauthenticated", "webhook signature or authorization is not valid")
		return
	}
	if key == models.AuthKeyPrevious {
		h.acceptedUnderPrevious(c.Request.Context(), method)
	}
	ev, parsed := identify(body)
	ev.AuthMethod, ev.AuthKey = &method, &key
	eventType := ev.EventType
	if ackBeforeCommit {
		c.JSON(http.StatusOK, ackResponse{Status: "stored"})
		go h.committer.Submit(context.WithoutCancel(c.Request.Context()), ev, parsed) //nolint:errcheck
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.cfg.AnswerTimeout)
	defer cancel()
	id, inserted, err := h.committer.Submit(ctx, ev, parsed)
	if err != nil {
		h.count(eventType, "unavailable")
		respond.Error(c, http.StatusServiceUnavailable, "unavailable", "webhook could not be stored; retry later")
		return
	}
	status := "stored"
	if !inserted {
		status = "duplicate"
	}
	h.count(eventType, status)
	h.logDelivered(c.Request.Context(), ev, id, status)
	c.JSON(http.StatusOK, ackResponse{Status: status})
}

// logDelivered writes the info line about a delivery that was stored or
// recognised as a duplicate, sampled (HandlerConfig.LogPerSecond): the event
// type, its dedup key (a hash: ev:… of the event's identity, raw:… of the
// body), the inbox row's id when stored now, and how it was authenticated;
// never the body or a header.
func (h *Handler) logDelivered(ctx context.Context, ev models.InboxEvent, id int64, status string) {
	if !h.log.Logger.IsLevelEnabled(logrus.InfoLevel) {
		return
	}
	s := h.delivered.next()
	if !s.log && s.notLogged == 0 {
		return // held back: under load most deliveries build no log entry at all
	}
	log := reqlog.Entry(ctx, h.log)
	h.heldBack(log, s, logrus.InfoLevel, "webhook deliveries not logged")
	if !s.log {
		return
	}
	f := logrus.Fields{
		"event_type": ev.EventType, "dedup_key": ev.DedupKey, "status": status,
		"auth": models.Deref(ev.AuthMethod), "auth_key": models.Deref(ev.AuthKey),
	}
	if id != 0 {
		f["inbox_event_id"] = id
	}
	log.WithFields(f).Info("webhook received")
}

// logRejected writes the warning about an unauthenticated delivery, sampled
// like the deliveries (HandlerConfig.LogPerSecond): anyone can post to the
// endpoint, so an unbounded line per refusal would let them fill the disk.
// payoutd_webhook_auth_failures_total counts every one.
func (h *Handler) logRejected(c *gin.Context, cause string, err error) {
	s := h.rejected.next()
	log := reqlog.Entry(c.Request.Context(), h.log)
	h.heldBack(log, s, logrus.WarnLevel, "unauthenticated webhooks not logged")
	if s.log {
		log.WithFields(logrus.Fields{"remote": c.ClientIP(), "cause": cause, "reason": err.Error()}).Warn("reject unauthenticated webhook")
	}
}

// heldBack writes, at level, the line counting what a sampler held back
// since its last report, when it held any back.
func (h *Handler) heldBack(log *logrus.Entry, s sampled, level logrus.Level, msg string) {
	if s.notLogged > 0 {
		log.WithFields(logrus.Fields{
			"not_logged": s.notLogged, "since": s.notLoggedSince.Format(time.RFC3339), "limit_per_second": h.cfg.LogPerSecond,
		}).Log(level, msg)
	}
}

// readBody reads at most MaxBodyBytes; with a declared length (checked
// against the limit already, and enforced by net/http) into one buffer of
// exactly that size.
func readBody(c *gin.Context) ([]byte, error) {
	r := http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	if n := c.Request.ContentLength; n > 0 {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(r)
}

// errNoCredentials: neither header present.
var errNoCredentials = errors.New("no Coinflow-Signature or Authorization header")

// errBadAuthorization: Authorization present but not the key.
var errBadAuthorization = errors.New("authorization does not match")

// failureCauses are the values of payoutd_webhook_auth_failures_total's
// cause label.
var failureCauses = []string{"bad_mac", "stale", "malformed", "missing", "bad_authorization"}

// failureCause names why authenticate refused a delivery, for the metric
// and the log line (never the key, the header or the body).
func failureCause(err error) string {
	switch {
	case errors.Is(err, ErrBadSignature):
		return "bad_mac"
	case errors.Is(err, ErrStaleSignature):
		return "stale"
	case errors.Is(err, ErrMalformedSignature):
		return "malformed"
	case errors.Is(err, errNoCredentials):
		return "missing"
	default:
		return "bad_authorization"
	}
}

// keys are the keys a delivery may be authenticated under, current first.
func (h *Handler) keys() [][]byte {
	if len(h.cfg.PreviousKey) == 0 {
		return [][]byte{h.cfg.Key}
	}
	return [][]byte{h.cfg.Key, h.cfg.PreviousKey}
}

// keyNames name keys()'s entries as stored in inbox_events.auth_key.
var keyNames = [...]string{models.AuthKeyCurrent, models.AuthKeyPrevious}

// authenticate applies SPEC's rule: a present Coinflow-Signature must verify
// (and then decides alone, even if Authorization matches); without it, the
// Authorization header must equal the key. During a rotation the previous
// key is accepted beside the current one under both schemes; a signature
// that verifies under neither is refused whatever Authorization says.
// It returns how the request was authenticated (models.AuthSignature or
// models.AuthAuthorization) and under which key (models.AuthKeyCurrent or
// models.AuthKeyPrevious).
func (h *Handler) authenticate(r *http.Request, body []byte) (method, key string, err error) {
	if sig, ok := r.Header["Coinflow-Signature"]; ok {
		if len(sig) != 1 {
			return "", "", ErrMalformedSignature
		}
		i, err := verifySignatureKeys(h.keys(), sig[0], body, h.cfg.NowFunc(), h.cfg.Tolerance)
		if err != nil {
			return "", "", err
		}
		return models.AuthSignature, keyNames[i], nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", "", errNoCredentials
	}
	i := authorizationMatchesKeys(h.keys(), auth)
	if i < 0 {
		return "", "", errBadAuthorization
	}
	return models.AuthAuthorization, keyNames[i], nil
}

// acceptedUnderPrevious counts a delivery accepted under the previous key
// and logs it at most once an hour (by the handler's clock): Coinflow still
// signs with the key being retired, so the rotation is not finished.
func (h *Handler) acceptedUnderPrevious(ctx context.Context, scheme string) {
	h.metrics.WebhooksPreviousKey.WithLabelValues(scheme).Inc()
	now := h.cfg.NowFunc()
	h.previousMu.Lock()
	h.previousSince++
	if h.previousLogging && now.Sub(h.previousLogged) < previousKeyLogEvery {
		h.previousMu.Unlock()
		return
	}
	n := h.previousSince
	h.previousLogged, h.previousSince, h.previousLogging = now, 0, true
	h.previousMu.Unlock()
	reqlog.Entry(ctx, h.log).WithFields(logrus.Fields{"scheme": scheme, "accepted_since_last_log": n}).
		Info("webhook accepted under coinflow.webhook_previous_key: Coinflow still uses the old key; " +
			"remove the previous key once this stops (payoutd_webhooks_previous_key_total)")
}

func (h *Handler) count(eventType, outcome string) {
	h.metrics.WebhooksReceived.WithLabelValues(inbox.EventTypeLabel(eventType), outcome).Inc()
}

func (h *Handler) tooLarge(c *gin.Context) {
	h.count("", "too_large")
	respond.Error(c, http.StatusRequestEntityTooLarge, "too_large", "webhook body is larger than 1 MiB")
}
