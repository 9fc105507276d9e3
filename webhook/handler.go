package webhook

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/inbox"
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
	// Tolerance bounds |now - t| of a Coinflow-Signature (default 5m).
	Tolerance time.Duration
	// AnswerTimeout bounds the wait for the durable commit (default 4s:
	// Coinflow counts an answer after 5s as a failure).
	AnswerTimeout time.Duration
	NowFunc       func() time.Time
}

// Handler is POST /webhooks/coinflow. It authenticates the raw bytes,
// derives the event's key, commits the raw event and only then answers 200;
// applying the event to payouts is the Applier's job, off the request path.
type Handler struct {
	committer *Committer
	metrics   *metrics.Metrics
	log       *logrus.Entry
	cfg       HandlerConfig
}

// NewHandler returns the webhook handler.
func NewHandler(committer *Committer, m *metrics.Metrics, log *logrus.Entry, cfg HandlerConfig) (*Handler, error) {
	if cfg.Tolerance < 0 || cfg.AnswerTimeout < 0 {
		return nil, errors.New("webhook handler: a negative setting")
	}
	cfg.Tolerance = cmp.Or(cfg.Tolerance, 5*time.Minute)
	cfg.AnswerTimeout = cmp.Or(cfg.AnswerTimeout, 4*time.Second)
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	return &Handler{committer: committer, metrics: m, log: log, cfg: cfg}, nil
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
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			h.tooLarge(c)
			return
		}
		h.count("", "bad_request")
		respond.Error(c, http.StatusBadRequest, "bad_request", "could not read the request body")
		return
	}
	method, err := h.authenticate(c.Request, body)
	if err != nil {
		h.count("", "unauthenticated")
		h.log.WithField("remote", c.ClientIP()).WithField("reason", err.Error()).Warn("reject unauthenticated webhook")
		respond.Error(c, http.StatusUnauthorized, "unauthenticated", "webhook signature or authorization is not valid")
		return
	}
	ev := identify(body)
	ev.AuthMethod, ev.AuthKey = &method, models.NonEmpty(models.AuthKeyCurrent)
	eventType := ev.EventType
	if ackBeforeCommit {
		c.JSON(http.StatusOK, ackResponse{Status: "stored"})
		go h.committer.Submit(context.WithoutCancel(c.Request.Context()), ev) //nolint:errcheck
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.cfg.AnswerTimeout)
	defer cancel()
	inserted, err := h.committer.Submit(ctx, ev)
	if err != nil {
		h.count(eventType, "unavailable")
		respond.Error(c, http.StatusServiceUnavailable, "unavailable", "webhook could not be stored; retry later")
		return
	}
	if !inserted {
		h.count(eventType, "duplicate")
		c.JSON(http.StatusOK, ackResponse{Status: "duplicate"})
		return
	}
	h.count(eventType, "stored")
	c.JSON(http.StatusOK, ackResponse{Status: "stored"})
}

// errNoCredentials: neither header present.
var errNoCredentials = errors.New("no Coinflow-Signature or Authorization header")

// errBadAuthorization: Authorization present but not the key.
var errBadAuthorization = errors.New("authorization does not match")

// authenticate applies SPEC's rule: a present Coinflow-Signature must verify
// (and then decides alone, even if Authorization matches); without it, the
// Authorization header must equal the key.
// It returns how the request was authenticated (models.AuthSignature or
// models.AuthAuthorization).
func (h *Handler) authenticate(r *http.Request, body []byte) (string, error) {
	if sig, ok := r.Header["Coinflow-Signature"]; ok {
		if len(sig) != 1 {
			return "", ErrMalformedSignature
		}
		return models.AuthSignature, VerifySignature(h.cfg.Key, sig[0], body, h.cfg.NowFunc(), h.cfg.Tolerance)
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", errNoCredentials
	}
	if !authorizationMatches(h.cfg.Key, auth) {
		return "", errBadAuthorization
	}
	return models.AuthAuthorization, nil
}

func (h *Handler) count(eventType, outcome string) {
	h.metrics.WebhooksReceived.WithLabelValues(inbox.EventTypeLabel(eventType), outcome).Inc()
}

func (h *Handler) tooLarge(c *gin.Context) {
	h.count("", "too_large")
	respond.Error(c, http.StatusRequestEntityTooLarge, "too_large", "webhook body is larger than 1 MiB")
}
