package coinflowtest

import (
	"net/http"
	"strings"
)

// addDestination serves the POST /withdraw/... that save a destination:
// it decodes and checks req (400), then, under the lock, finds the
// request's verified withdrawer (404, 451) and has save store the
// destination and return the status and body of the answer (a refusal
// such as 412 or 426 stores nothing).
func (e *Emulator) addDestination(w http.ResponseWriter, r *http.Request, req checker, save func(wd *withdrawer) (int, any)) {
	if !decodeBody(w, r, req) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	wd, ok := e.verifiedLocked(w, r, "")
	if !ok {
		return
	}
	status, body := save(wd)
	writeJSON(w, status, body)
}

// newTokenLocked is a fresh destination token: prefix and 24 base58
// characters.
func (e *Emulator) newTokenLocked(prefix string) string { return e.ids.token.token(prefix, 24) }

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

// handleAddBankAccount is POST /withdraw/account and /withdraw/account/v2:
// a US bank account, paid in USD at asap, same_day or standard.
func (e *Emulator) handleAddBankAccount(w http.ResponseWriter, r *http.Request) {
	var req bankAccountRequest
	e.addDestination(w, r, &req, func(wd *withdrawer) (int, any) {
		e.addBankLocked(wd, e.newTokenLocked("bnk_"), last4(req.AccountNumber), req.Alias)
		return http.StatusOK, withdrawerResponseJSON{Withdrawer: e.withdrawerWithAccountsOf(wd)}
	})
}

// addressJSON is IAccountAddress: an address on file, or the one a debit
// card request brings.
type addressJSON struct {
	Address1 string `json:"address1"`
	City     string `json:"city"`
	State    string `json:"state"`
	Zip      string `json:"zip"`
}

// check returns the 400 message naming the missing address fields, or "".
func (a *addressJSON) check() string {
	var m []string
	for _, f := range []struct{ name, v string }{
		{"address1", a.Address1}, {"city", a.City}, {"state", a.State}, {"zip", a.Zip},
	} {
		if strings.TrimSpace(f.v) == "" {
			m = append(m, "address."+f.name)
		}
	}
	if len(m) > 0 {
		return strings.Join(m, ", ") + " required"
	}
	return ""
}

// debitCardRequest is AddDebitCardArgs (the members the emulator reads).
type debitCardRequest struct {
	CardToken string       `json:"cardToken"`
	ExpMonth  string       `json:"expMonth"`
	ExpYear   string       `json:"expYear"`
	Address   *addressJSON `json:"address"`
}

// IneligibleCardPrefix marks a card that cannot receive push-to-card
// payouts: a cardToken (POST /withdraw/debit-card) or a
// WithdrawerSpec.CardToken starting with it is saved with
// disbursementStatus Ineligible and takes no speed, so quotes and payouts
// to it are refused.
const IneligibleCardPrefix = "ineligible_"

// msgAddressRequired is the 412 of POST /withdraw/debit-card, in the
// spec's words.
const msgAddressRequired = "User Address Info Required - Please provide address info in body.address parameters"

// check validates the card body: required members, no raw PAN, expMonth
// 01-12, a 2-digit expYear, and a whole address when one is given.
func (q *debitCardRequest) check() string {
	switch {
	case q.CardToken == "" || q.ExpMonth == "" || q.ExpYear == "":
		return "cardToken, expMonth and expYear are required"
	case isDigits(q.CardToken) && len(q.CardToken) >= 12 && len(q.CardToken) <= 19:
		return "cardToken must be a token from Coinflow's card tokenization"
	case len(q.ExpMonth) != 2 || !isDigits(q.ExpMonth) || q.ExpMonth < "01" || q.ExpMonth > "12":
		return "expMonth must be 01 to 12"
	case len(q.ExpYear) != 2 || !isDigits(q.ExpYear):
		return "expYear must be 2 digits"
	case q.Address != nil:
		return q.Address.check()
	}
	return ""
}

// handleAddDebitCard is POST /withdraw/debit-card: saves a US debit card
// (USD, speed card) and answers its token as a JSON string. 412 when the
// withdrawer has no address on file and the body brings none; a body
// address is put on file.
func (e *Emulator) handleAddDebitCard(w http.ResponseWriter, r *http.Request) {
	var req debitCardRequest
	e.addDestination(w, r, &req, func(wd *withdrawer) (int, any) {
		if req.Address != nil {
			wd.address = req.Address
		}
		if wd.address == nil {
			return http.StatusPreconditionFailed, msgJSON{Msg: msgAddressRequired}
		}
		token := e.newTokenLocked("crd_")
		d := e.addCardLocked(wd, token, last4(req.CardToken), req.ExpMonth, req.ExpYear)
		if strings.HasPrefix(req.CardToken, IneligibleCardPrefix) {
			d.ineligible()
		}
		return http.StatusOK, token
	})
}

// ibanRequest is IbanAccountData.
type ibanRequest struct {
	Number        string `json:"number"`
	SortCode      string `json:"sortCode"`
	BIC           string `json:"bic"`
	AccountHolder string `json:"accountHolder"`
	Alias         string `json:"alias"`

	// set by check
	number, sortCode, bic, currency string
	uk                              bool // a UK account number and sort code, not an IBAN
}

// check validates the account (an IBAN, or a UK account number and sort
// code) and the BIC, and derives the compacted values and the currency.
func (q *ibanRequest) check() string {
	q.number, q.sortCode, q.bic = compact(q.Number), compact(q.SortCode), compact(q.BIC)
	switch {
	case q.number == "":
		return "number is required"
	case isDigits(q.number):
		if len(q.number) != 8 {
			return "number must be an IBAN or a UK 8-digit account number"
		}
		if q.sortCode == "" {
			return "sortCode is required with a UK account number"
		}
		if len(q.sortCode) != 6 || !isDigits(q.sortCode) {
			return "sortCode must be 6 digits"
		}
		q.uk, q.currency = true, "GBP"
	default:
		country, ok := ibanCountry(q.number)
		if !ok {
			return "invalid IBAN"
		}
		q.currency = ibanCurrencyFor(country)
	}
	if q.bic != "" && !validBIC(q.bic) {
		return "invalid BIC"
	}
	return ""
}

// msgBICRequired is the 426 body of POST /withdraw/iban: a JSON string,
// as the spec types it.
const msgBICRequired = "BIC required"

// handleAddIBAN is POST /withdraw/iban: saves an IBAN (EUR; GBP for a GB
// IBAN) or a UK account number and sort code (GBP), speed iban, and
// answers its token as a JSON string. 426 "BIC required" for an IBAN
// without a bic. [ASSUMED] a UK account number needs no BIC.
func (e *Emulator) handleAddIBAN(w http.ResponseWriter, r *http.Request) {
	var req ibanRequest
	e.addDestination(w, r, &req, func(wd *withdrawer) (int, any) {
		if !req.uk && req.bic == "" {
			return http.StatusUpgradeRequired, msgBICRequired
		}
		token := e.newTokenLocked("iban_")
		sortCode := ""
		if req.uk {
			sortCode = req.sortCode
		}
		d := e.addIBANLocked(wd, token, last4(req.number), sortCode, req.bic, req.currency)
		d.holder = strings.TrimSpace(req.AccountHolder)
		if a := strings.TrimSpace(req.Alias); a != "" {
			d.iban.Alias = a
		}
		return http.StatusOK, token
	})
}

// pixRequest is the body of POST /withdraw/pix.
type pixRequest struct {
	PixKey string `json:"pixKey"`
}

// check requires a non-blank pixKey.
func (q *pixRequest) check() string {
	if strings.TrimSpace(q.PixKey) == "" {
		return "pixKey is required"
	}
	return ""
}

// handleAddPIX is POST /withdraw/pix: saves a PIX key (BRL, speed pix)
// and answers its token as a JSON string.
func (e *Emulator) handleAddPIX(w http.ResponseWriter, r *http.Request) {
	var req pixRequest
	e.addDestination(w, r, &req, func(wd *withdrawer) (int, any) {
		token := e.newTokenLocked("pix_")
		e.addPIXLocked(wd, token, strings.TrimSpace(req.PixKey))
		return http.StatusOK, token
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
