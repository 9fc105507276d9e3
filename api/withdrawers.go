package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/check"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
)

// maxOnboardBody bounds the onboarding requests' bodies.
const maxOnboardBody = 16 << 10

// decodeStrict reads one JSON object into dst, refusing unknown fields,
// trailing data and bodies over max bytes; it answers the refusal itself
// (413, or 422 with hint) and reports whether dst holds the body.
func decodeStrict(c *gin.Context, max int64, dst any, hint string) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, max))
	if err != nil {
		respond.Error(c, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than "+strconv.FormatInt(max>>10, 10)+" KiB")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil || dec.More() {
		respond.FieldErrors(c, map[string]string{"body": hint})
		return false
	}
	return true
}

type addressBody struct {
	Line1 string `json:"line1"`
	Line2 string `json:"line2"`
	City  string `json:"city"`
	State string `json:"state"`
	Zip   string `json:"zip"`
}

func (a *addressBody) address() *onboard.Address {
	if a == nil {
		return nil
	}
	return &onboard.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, Zip: a.Zip}
}

// registerBody is POST /api/v1/withdrawers.
type registerBody struct {
	UserID       string       `json:"user_id"`
	Email        string       `json:"email"`
	Country      string       `json:"country"`
	FirstName    string       `json:"first_name"`
	LastName     string       `json:"last_name"`
	SSN          string       `json:"ssn"`
	DOB          string       `json:"dob"`
	Address      *addressBody `json:"address"`
	RedirectLink string       `json:"redirect_link"`
}

// notConfigured answers 503 when payoutd has no Coinflow API key.
func (h *handlers) notConfigured(c *gin.Context) bool {
	if h.onboard == nil {
		respond.Error(c, http.StatusServiceUnavailable, "not_configured", "coinflow api key not configured")
		return true
	}
	return false
}

func (h *handlers) registerWithdrawer(c *gin.Context) {
	if h.notConfigured(c) {
		return
	}
	var b registerBody
	if !decodeStrict(c, maxOnboardBody, &b, "must be one JSON object: user_id, email, country and, for US withdrawers, first_name, last_name, ssn, dob and address") {
		return
	}
	r := onboard.Registration{
		UserID: b.UserID, Email: b.Email, Country: b.Country, FirstName: b.FirstName, LastName: b.LastName,
		SSN: b.SSN, DOB: b.DOB, Address: b.Address.address(), RedirectLink: b.RedirectLink,
	}
	if errs := r.Validate(h.store.Now()); errs != nil {
		respond.FieldErrors(c, errs)
		return
	}
	w, err := h.onboard.Register(c.Request.Context(), r)
	if err != nil {
		h.onboardError(c, err, "register withdrawer")
		return
	}
	status := http.StatusCreated
	if w.VerificationStatus != models.VerificationApproved {
		status = http.StatusAccepted // Coinflow needs the person on its hosted page
	}
	h.withdrawerAnswer(c, status, w)
}

// withdrawerAnswer writes the withdrawer with its destinations and history.
func (h *handlers) withdrawerAnswer(c *gin.Context, status int, w *onboard.Withdrawer) {
	hist, err := h.store.WithdrawerHistoryList(c.Request.Context(), w.UserID)
	if err != nil {
		h.storeError(c, err, "withdrawer")
		return
	}
	c.JSON(status, newWithdrawerView(w.Withdrawer, w.Destinations, hist))
}

func (h *handlers) getWithdrawer(c *gin.Context) {
	refresh := c.Query("refresh")
	if refresh != "" && refresh != "true" && refresh != "false" {
		respond.FieldErrors(c, map[string]string{"refresh": "must be true or false"})
		return
	}
	id := c.Param("user_id")
	if refresh == "true" {
		if h.notConfigured(c) {
			return
		}
		if err := h.onboard.Refresh(c.Request.Context(), id); err != nil {
			h.onboardError(c, err, "refresh withdrawer")
			return
		}
	}
	w, err := h.store.WithdrawerGet(c.Request.Context(), id)
	if err != nil {
		h.storeError(c, err, "withdrawer")
		return
	}
	dests, err := h.store.DestinationsOf(c.Request.Context(), id)
	if err != nil {
		h.storeError(c, err, "withdrawer")
		return
	}
	h.withdrawerAnswer(c, http.StatusOK, &onboard.Withdrawer{Withdrawer: w, Destinations: dests})
}

// destinationBody is POST /api/v1/withdrawers/{user_id}/destinations.
type destinationBody struct {
	Type          string       `json:"type"`
	RoutingNumber string       `json:"routing_number"`
	AccountNumber string       `json:"account_number"`
	AccountType   string       `json:"account_type"`
	Name          string       `json:"name"`
	CardToken     string       `json:"card_token"`
	ExpMonth      string       `json:"exp_month"`
	ExpYear       string       `json:"exp_year"`
	Address       *addressBody `json:"address"`
	IBAN          string       `json:"iban"`
	BIC           string       `json:"bic"`
	AccountHolder string       `json:"account_holder"`
	Key           string       `json:"key"`
}

func (h *handlers) saveDestination(c *gin.Context) {
	if h.notConfigured(c) {
		return
	}
	var b destinationBody
	if !decodeStrict(c, maxOnboardBody, &b, "must be one JSON object with type (bank_account, card, iban or pix) and that type's fields") {
		return
	}
	d := onboard.DestinationRequest{
		Type: b.Type, RoutingNumber: b.RoutingNumber, AccountNumber: b.AccountNumber, AccountType: b.AccountType, Name: b.Name,
		CardToken: b.CardToken, ExpMonth: b.ExpMonth, ExpYear: b.ExpYear, Address: b.Address.address(),
		IBAN: b.IBAN, BIC: b.BIC, AccountHolder: b.AccountHolder, Key: b.Key,
	}
	errs := d.Validate()
	if msg := check.ID(c.Param("user_id")); msg != "" {
		errs = addField(errs, "user_id", msg)
	}
	if errs != nil {
		respond.FieldErrors(c, errs)
		return
	}
	saved, err := h.onboard.SaveDestination(c.Request.Context(), c.Param("user_id"), d)
	if err != nil {
		h.onboardError(c, err, "save destination")
		return
	}
	c.JSON(http.StatusCreated, newDestinationView(saved))
}

func addField(errs map[string]string, field, msg string) map[string]string {
	if errs == nil {
		errs = map[string]string{}
	}
	errs[field] = msg
	return errs
}

func (h *handlers) deleteDestination(c *gin.Context) {
	if h.notConfigured(c) {
		return
	}
	if err := h.onboard.DeleteDestination(c.Request.Context(), c.Param("user_id"), c.Param("token")); err != nil {
		h.onboardError(c, err, "delete destination")
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *handlers) sessionKey(c *gin.Context) {
	if h.notConfigured(c) {
		return
	}
	key, expires, err := h.onboard.SessionKey(c.Request.Context(), c.Param("user_id"))
	if err != nil {
		h.onboardError(c, err, "session key")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"key": key, "expires_at": expires.UTC()})
}

// quoteBody is POST /api/v1/quotes; cents stays raw so 12.5 is refused.
type quoteBody struct {
	UserID string `json:"user_id"`
	Amount struct {
		Cents    json.RawMessage `json:"cents"`
		Currency string          `json:"currency"`
	} `json:"amount"`
	Account string `json:"account"`
}

type quoteView struct {
	Speed              string       `json:"speed"`
	Fee                models.Money `json:"fee"`
	MerchantFee        models.Money `json:"merchant_fee"`
	UserReceives       models.Money `json:"user_receives"`
	WalletDebit        models.Money `json:"wallet_debit"`
	ExpectedDeliveryAt *string      `json:"expected_delivery_at"`
	Limit              models.Money `json:"limit"`
}

func (h *handlers) createQuote(c *gin.Context) {
	if h.notConfigured(c) {
		return
	}
	var b quoteBody
	if !decodeStrict(c, maxOnboardBody, &b, "must be one JSON object with user_id, amount {cents, currency} and account") {
		return
	}
	errs := map[string]string{}
	cents, err := strconv.ParseInt(string(b.Amount.Cents), 10, 64)
	check.Amount(errs, "amount", cents, b.Amount.Currency)
	if err != nil {
		errs["amount.cents"] = "must be a whole number of cents"
	}
	for field, v := range map[string]string{"user_id": b.UserID, "account": b.Account} {
		if msg := check.ID(v); msg != "" {
			errs[field] = msg
		}
	}
	if len(errs) > 0 {
		respond.FieldErrors(c, errs)
		return
	}
	entries, qerr := h.onboard.Quote(c.Request.Context(), onboard.QuoteRequest{
		UserID: b.UserID, Amount: models.Money{Cents: cents, Currency: b.Amount.Currency}, Account: b.Account,
	})
	if qerr != nil {
		h.onboardError(c, qerr, "quote")
		return
	}
	out := make([]quoteView, 0, len(entries))
	for _, e := range entries {
		v := quoteView{Speed: e.Speed, Fee: e.Fee, MerchantFee: e.MerchantFee, UserReceives: e.UserReceives, WalletDebit: e.WalletDebit, Limit: e.Limit}
		if e.ExpectedDeliveryAt != nil {
			s := e.ExpectedDeliveryAt.UTC().Format("2006-01-02T15:04:05Z07:00")
			v.ExpectedDeliveryAt = &s
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"quotes": out})
}

// onboardError answers for an onboarding error. Coinflow's own text never
// reaches the client: it may echo what was sent.
func (h *handlers) onboardError(c *gin.Context, err error, what string) {
	if verr, ok := errors.AsType[*onboard.VerificationError](err); ok {
		c.AbortWithStatusJSON(http.StatusConflict, respond.ErrorBody{Error: respond.ErrorDetail{
			Code: "verification_required", Message: "the withdrawer must complete verification at Coinflow",
			VerificationLink: verr.Link, VerificationStatus: verr.Status,
		}})
		return
	}
	switch {
	case errors.Is(err, onboard.ErrAlreadyRegistered):
		respond.Error(c, http.StatusConflict, "already_registered", "this user is already registered as a withdrawer")
	case errors.Is(err, onboard.ErrNotRegistered):
		respond.Error(c, http.StatusNotFound, "not_found", "withdrawer not registered with payoutd")
	case errors.Is(err, onboard.ErrUnknownAccount):
		respond.Error(c, http.StatusNotFound, "not_found", "no such destination for this withdrawer")
	case errors.Is(err, onboard.ErrDeleted):
		respond.Error(c, http.StatusUnprocessableEntity, "destination_deleted", "the destination was deleted")
	case errors.Is(err, onboard.ErrSpeedNotOffered):
		respond.Error(c, http.StatusUnprocessableEntity, "speed_not_available", "the destination does not offer this speed")
	case errors.Is(err, onboard.ErrCurrencyMismatch):
		respond.Error(c, http.StatusUnprocessableEntity, "currency_mismatch", "the amount's currency is not the destination's currency")
	case errors.Is(err, onboard.ErrAddressRequired):
		respond.Error(c, http.StatusUnprocessableEntity, "address_required", "Coinflow needs the card holder's address: send it as address")
	case errors.Is(err, onboard.ErrBICRequired):
		respond.Error(c, http.StatusUnprocessableEntity, "bic_required", "Coinflow needs this IBAN's BIC: send it as bic")
	case errors.Is(err, onboard.ErrRateLimited):
		h.logger(c).WithError(err).Warn(what)
		respond.Error(c, http.StatusTooManyRequests, "coinflow_rate_limited", "Coinflow's rate limit was reached; retry later")
	case errors.Is(err, onboard.ErrRejected):
		h.logger(c).WithError(err).Warn(what)
		respond.Error(c, http.StatusBadGateway, "coinflow_rejected", "Coinflow rejected the request")
	case errors.Is(err, onboard.ErrUnavailable):
		h.logger(c).WithError(err).Warn(what)
		respond.Error(c, http.StatusServiceUnavailable, "coinflow_unavailable", "Coinflow is unavailable; retry later")
	default:
		h.storeError(c, err, "withdrawer")
	}
}
