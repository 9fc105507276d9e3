package coinflowtest

import (
	"net/http"
)

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
		e.addIBANLocked(wd, token, last4(req.Number), req.SortCode, req.BIC, "EUR")
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

// deleteRoutes are the DELETE /withdraw/{kind}/{token} operations.
var deleteRoutes = []struct{ kind, op string }{
	{kindAccount, OpDeleteBankAccount},
	{kindCard, OpDeleteCard},
	{kindIBAN, OpDeleteIBAN},
	{kindPIX, OpDeletePIX},
}

// handleDeleteDestination returns the handler of DELETE
// /withdraw/{kind}/{token}: it marks the request's withdrawer's
// destination of that kind deleted (GET /withdraw keeps listing it, with
// isDeleted true; quotes and payouts refuse it as an unknown account) and
// answers {"withdrawer": IWithdrawerWithAccounts}. 404 {"msg"} when the
// token is not a destination of that kind of that withdrawer. [ASSUMED]
// deleting a deleted destination again answers 200 (a retry after a lost
// answer must not fail), and deletion needs no approved verification.
func (e *Emulator) handleDeleteDestination(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		wd := e.byUser[e.userID(r)]
		if wd == nil {
			writeMsg(w, http.StatusNotFound, "Withdrawer not found")
			return
		}
		d := wd.findDest(kind, r.PathValue("token"))
		if d == nil {
			writeMsg(w, http.StatusNotFound, deleteNotFound[kind])
			return
		}
		d.deleted = true
		writeJSON(w, http.StatusOK, withdrawerResponseJSON{Withdrawer: e.withdrawerWithAccountsOf(wd)})
	}
}

// deleteNotFound are the 404 messages of the delete routes.
var deleteNotFound = map[string]string{
	kindAccount: "Bank account not found",
	kindCard:    "Card not found",
	kindIBAN:    "Iban account not found",
	kindPIX:     "Pix account not found",
}
