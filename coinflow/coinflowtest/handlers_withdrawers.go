package coinflowtest

import (
	"net/http"
	"strings"
)

// handleListWithdrawers is GET /merchant/withdrawers: every withdrawer in
// creation order; blocked=true|false filters on availability Blocked,
// search matches userId, email, wallet or _id (case-insensitive). The
// array is encoded element by element (streamJSONArray), so 100,000
// withdrawers cost no slice of 100,000 rendered ones.
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
	streamJSONArray(w, http.StatusOK, func(yield func(withdrawerJSON) bool) {
		for _, wd := range e.withdrawers {
			if blocked != "" && wd.blocked() != (blocked == "true") {
				continue
			}
			if search != "" && !matchesWithdrawer(wd, search, e.walletOf(wd.userID)) {
				continue
			}
			if !yield(e.withdrawerJSONOf(wd)) {
				return
			}
		}
	})
}

// matchesWithdrawer reports whether the lower-case search occurs in wd's
// userId, email, wallet or _id.
func matchesWithdrawer(wd *withdrawer, search, wallet string) bool {
	for _, f := range []string{wd.userID, wd.email, wallet, wd.id} {
		if strings.Contains(strings.ToLower(f), search) {
			return true
		}
	}
	return false
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
