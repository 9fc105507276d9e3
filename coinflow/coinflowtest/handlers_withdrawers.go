package coinflowtest

import (
	"net/http"
	"strings"
)

// handleListWithdrawers is GET /merchant/withdrawers: every withdrawer in
// creation order; blocked=true|false filters on availability Blocked,
// search matches userId, email, wallet or _id (case-insensitive).
func (e *Emulator) handleListWithdrawers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	blocked := first(q, "blocked")
	if blocked != "" && blocked != "true" && blocked != "false" {
		writeMsg(w, http.StatusBadRequest, "blocked must be 'true' or 'false'")
		return
	}
	search := strings.ToLower(first(q, "search"))
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []withdrawerJSON{}
	for _, wd := range e.withdrawers {
		if blocked != "" && wd.blocked() != (blocked == "true") {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(wd.userID+"\x00"+wd.email+"\x00"+e.walletOf(wd.userID)+"\x00"+wd.id), search) {
			continue
		}
		out = append(out, e.withdrawerJSONOf(wd))
	}
	writeJSON(w, http.StatusOK, out)
}

type blockRequest struct {
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	Blockchain string `json:"blockchain"`
}

func (q *blockRequest) check() string {
	switch {
	case q.Status != AvailabilityFunctional && q.Status != AvailabilityBlocked && q.Status != AvailabilityOverride:
		return "status must be Functional, Blocked or Override"
	case q.Reason == "":
		return "reason is required"
	}
	return ""
}

// handleBlockWithdrawer is PUT /merchant/block-withdrawer/{withdrawerId}
// (the _id; a userId or wallet is accepted too). 200 with no body.
func (e *Emulator) handleBlockWithdrawer(w http.ResponseWriter, r *http.Request) {
	var req blockRequest
	if !decodeBody(w, r, &req) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	wd := e.lookupWithdrawerLocked(r.PathValue("withdrawerId"))
	if wd == nil {
		writeMsg(w, http.StatusNotFound, "Withdrawer not found")
		return
	}
	e.setAvailabilityLocked(wd, req.Status, req.Reason, "merchant-api")
	w.WriteHeader(http.StatusOK)
}

// verificationRequiredResponseJSON is WithdrawerVerificationRequiredResponse.
type verificationRequiredResponseJSON struct {
	Verification     verificationJSON `json:"verification"`
	VerificationLink string           `json:"verificationLink"`
	RedirectLink     string           `json:"redirectLink,omitempty"`
	RejectionReasons []string         `json:"rejectionReasons,omitempty"`
	Withdrawer       withdrawerJSON   `json:"withdrawer"`
}

func (e *Emulator) writeVerificationRequired(w http.ResponseWriter, wd *withdrawer, redirect string) {
	body := verificationRequiredResponseJSON{
		Verification:     verificationJSON{Reference: wd.reference, Status: wd.verification, Vendor: wd.vendor},
		VerificationLink: e.verificationLink(wd, redirect),
		RedirectLink:     redirect,
		Withdrawer:       e.withdrawerJSONOf(wd),
	}
	if wd.verification == VerificationRejected {
		body.RejectionReasons = []string{"Identity could not be verified"}
	}
	writeJSON(w, http.StatusUnavailableForLegalReasons, body)
}

type withdrawerResponseJSON struct {
	Withdrawer withdrawerWithAccountsJSON `json:"withdrawer"`
}

// verifiedLocked finds the request's withdrawer and answers 404 or 451
// itself when it is missing or not approved.
func (e *Emulator) verifiedLocked(w http.ResponseWriter, r *http.Request, redirect string) (*withdrawer, bool) {
	wd := e.byUser[e.userID(r)]
	if wd == nil {
		writeMsg(w, http.StatusNotFound, "Withdrawer not found")
		return nil, false
	}
	if wd.verification != VerificationApproved {
		e.writeVerificationRequired(w, wd, redirect)
		return nil, false
	}
	return wd, true
}

// handleGetWithdrawer is GET /withdraw: the withdrawer and its saved
// destinations, or 451 while verification is outstanding.
func (e *Emulator) handleGetWithdrawer(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wd, ok := e.verifiedLocked(w, r, first(r.URL.Query(), "redirectLink"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, withdrawerResponseJSON{Withdrawer: e.withdrawerWithAccountsOf(wd)})
}

// addDestination serves the POST /withdraw/... that save a destination:
// it decodes and checks req, then, under the lock, save stores the
// destination on the request's verified withdrawer under a fresh token
// (prefix and 24 characters) and returns the 200 body.
func (e *Emulator) addDestination(w http.ResponseWriter, r *http.Request, req checker, prefix string, save func(wd *withdrawer, token string) any) {
	if !decodeBody(w, r, req) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	wd, ok := e.verifiedLocked(w, r, "")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, save(wd, e.ids.token.token(prefix, 24)))
}

type bankAccountRequest struct {
	Alias         string `json:"alias"`
	RoutingNumber string `json:"routingNumber"`
	AccountNumber string `json:"accountNumber"`
	Type          string `json:"type"`
}

func (q *bankAccountRequest) check() string {
	if msg := required("alias, routingNumber and accountNumber are required", q.Alias, q.RoutingNumber, q.AccountNumber); msg != "" {
		return msg
	}
	if q.Type != "checking" && q.Type != "savings" {
		return "type must be checking or savings"
	}
	return ""
}

// handleAddBankAccount is POST /withdraw/account and /withdraw/account/v2.
func (e *Emulator) handleAddBankAccount(w http.ResponseWriter, r *http.Request) {
	var req bankAccountRequest
	e.addDestination(w, r, &req, "bnk_", func(wd *withdrawer, token string) any {
		e.addBankLocked(wd, token, last4(req.AccountNumber), req.Alias)
		return withdrawerResponseJSON{Withdrawer: e.withdrawerWithAccountsOf(wd)}
	})
}

type debitCardRequest struct {
	CardToken string `json:"cardToken"`
	ExpMonth  string `json:"expMonth"`
	ExpYear   string `json:"expYear"`
}

func (q *debitCardRequest) check() string {
	return required("cardToken, expMonth and expYear are required", q.CardToken, q.ExpMonth, q.ExpYear)
}

// handleAddDebitCard is POST /withdraw/debit-card: answers the new card's
// token as a JSON string.
func (e *Emulator) handleAddDebitCard(w http.ResponseWriter, r *http.Request) {
	var req debitCardRequest
	e.addDestination(w, r, &req, "crd_", func(wd *withdrawer, token string) any {
		e.addCardLocked(wd, token, last4(req.CardToken), req.ExpMonth, req.ExpYear)
		return token
	})
}

type ibanRequest struct {
	Number   string `json:"number"`
	SortCode string `json:"sortCode"`
	BIC      string `json:"bic"`
}

func (q *ibanRequest) check() string {
	return required("number is required", q.Number)
}

// handleAddIBAN is POST /withdraw/iban: answers the new account's token.
func (e *Emulator) handleAddIBAN(w http.ResponseWriter, r *http.Request) {
	var req ibanRequest
	e.addDestination(w, r, &req, "iban_", func(wd *withdrawer, token string) any {
		e.addIBANLocked(wd, token, last4(req.Number), req.SortCode, req.BIC)
		return token
	})
}

type pixRequest struct {
	PixKey string `json:"pixKey"`
}

func (q *pixRequest) check() string {
	return required("pixKey is required", q.PixKey)
}

// handleAddPIX is POST /withdraw/pix: answers the new key's token.
func (e *Emulator) handleAddPIX(w http.ResponseWriter, r *http.Request) {
	var req pixRequest
	e.addDestination(w, r, &req, "pix_", func(wd *withdrawer, token string) any {
		e.addPIXLocked(wd, token, req.PixKey)
		return token
	})
}

func last4(s string) string {
	if len(s) <= 4 {
		return s
	}
	return s[len(s)-4:]
}
