package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/initiate"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
)

// createPayoutRequest is POST /api/v1/payouts. Cents stays raw so that 12.5
// or "100" is refused rather than rounded or coerced.
type createPayoutRequest struct {
	UserID string `json:"user_id"`
	Amount struct {
		Cents    json.RawMessage `json:"cents"`
		Currency string          `json:"currency"`
	} `json:"amount"`
	Speed          string `json:"speed"`
	Account        string `json:"account"`
	IdempotencyKey string `json:"idempotency_key"`
}

// payoutErrorBody is an error that concerns a recorded payout: the payout
// is shown beside the error so the caller knows its state.
type payoutErrorBody struct {
	Error  respond.ErrorDetail `json:"error"`
	Payout *payoutView         `json:"payout,omitempty"`
}

const maxCreateBody = 16 << 10

func (h *handlers) createPayout(c *gin.Context) {
	if h.initiator == nil {
		respond.Error(c, http.StatusServiceUnavailable, "not_configured", "coinflow api key not configured")
		return
	}
	var body createPayoutRequest
	if !decodeStrict(c, maxCreateBody, &body, "must be one JSON object with user_id, amount {cents, currency}, speed, account and optionally idempotency_key") {
		return
	}
	req := initiate.Request{
		UserID: body.UserID, Amount: models.Money{Currency: body.Amount.Currency},
		Speed: body.Speed, Account: body.Account, IdempotencyKey: body.IdempotencyKey,
	}
	cents, centsErr := strconv.ParseInt(string(body.Amount.Cents), 10, 64)
	req.Amount.Cents = cents
	errs := req.Validate()
	if centsErr != nil {
		if errs == nil {
			errs = map[string]string{}
		}
		errs["amount.cents"] = "must be a whole number of cents"
	}
	if errs != nil {
		respond.FieldErrors(c, errs)
		return
	}

	res, err := h.initiator.Initiate(c.Request.Context(), req)
	var view *payoutView
	if res.Payout != nil {
		v := newPayoutView(res.Payout, nil)
		view = &v
	}
	fail := func(status int, code, msg string) {
		c.AbortWithStatusJSON(status, payoutErrorBody{Error: respond.ErrorDetail{Code: code, Message: msg}, Payout: view})
	}
	verr, isVerification := errors.AsType[*initiate.VerificationError](err)
	if errors.Is(err, initiate.ErrRejected) || errors.Is(err, initiate.ErrUnavailable) {
		// Initiation returns what went wrong with Coinflow; it is logged
		// here, once.
		log := h.logger(c).WithError(err)
		if view != nil {
			log = log.WithField("payout_id", view.ID)
		}
		log.Warn("initiate payout")
	}
	switch {
	case err == nil && res.Created:
		c.JSON(http.StatusCreated, view)
	case err == nil, errors.Is(err, initiate.ErrInProgress):
		c.JSON(http.StatusOK, view)
	case isVerification:
		c.AbortWithStatusJSON(http.StatusConflict, payoutErrorBody{Error: respond.ErrorDetail{
			Code: "verification_required", Message: "the withdrawer must complete verification at Coinflow",
			VerificationLink: verr.Link, VerificationStatus: verr.Status,
		}, Payout: view})
	case errors.Is(err, initiate.ErrIdempotencyMismatch):
		fail(http.StatusConflict, "idempotency_key_reused", "this idempotency key was used for a different payout")
	case errors.Is(err, initiate.ErrWithdrawerBlocked):
		fail(http.StatusConflict, "withdrawer_blocked", "the withdrawer is blocked at Coinflow")
	case errors.Is(err, initiate.ErrUnknownAccount):
		respond.FieldErrors(c, map[string]string{"account": "is not a saved destination of this withdrawer"})
	case errors.Is(err, onboard.ErrDeleted), errors.Is(err, onboard.ErrSpeedNotOffered), errors.Is(err, onboard.ErrCurrencyMismatch):
		h.onboardError(c, err, "initiate payout")
	case errors.Is(err, initiate.ErrOverLimit):
		respond.Error(c, http.StatusUnprocessableEntity, "amount_over_limit", "the amount is above Coinflow's limit for this speed; quote it to see the limit")
	case errors.Is(err, initiate.ErrInsufficientFunds):
		fail(http.StatusPaymentRequired, "insufficient_funds", "the Coinflow wallet cannot cover this payout")
	case errors.Is(err, initiate.ErrRejected):
		fail(http.StatusBadGateway, "coinflow_rejected", "Coinflow rejected the payout")
	case errors.Is(err, initiate.ErrUnavailable) && view != nil && view.Status == models.StatusUnknown:
		fail(http.StatusServiceUnavailable, "coinflow_unavailable",
			"Coinflow did not confirm the payout; it is recorded with status unknown and reconciliation will settle it")
	case errors.Is(err, initiate.ErrUnavailable):
		fail(http.StatusServiceUnavailable, "coinflow_unavailable", "Coinflow is unavailable; nothing was paid; retry with the same idempotency key")
	case errors.Is(err, models.ErrUnavailable):
		h.logger(c).WithError(err).Error("initiate payout")
		fail(http.StatusServiceUnavailable, "unavailable", "the payout could not be completed; retry with the same idempotency key")
	default:
		h.logger(c).WithError(err).Error("initiate payout")
		fail(http.StatusInternalServerError, "internal", "internal error")
	}
}
