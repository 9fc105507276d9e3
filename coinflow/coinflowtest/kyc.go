package coinflowtest

import (
	"net/http"
	"strings"
)

// kycRequest is KycRequestBody: KycUsRequestBody (info) or
// KycDocVRequestBody (email, country).
type kycRequest struct {
	Info         *kycInfo `json:"info"`
	Email        string   `json:"email"`
	Country      string   `json:"country"`
	MerchantID   string   `json:"merchantId"`
	RedirectLink string   `json:"redirectLink"`
}

type kycInfo struct {
	Email           string `json:"email"`
	FirstName       string `json:"firstName"`
	SurName         string `json:"surName"`
	PhysicalAddress string `json:"physicalAddress"`
	City            string `json:"city"`
	State           string `json:"state"`
	Zip             string `json:"zip"`
	Country         string `json:"country"`
	Dob             string `json:"dob"`
	Ssn             string `json:"ssn"`
}

func (i *kycInfo) missing() []string {
	var m []string
	for _, f := range []struct{ name, v string }{
		{"email", i.Email}, {"firstName", i.FirstName}, {"surName", i.SurName},
		{"physicalAddress", i.PhysicalAddress}, {"city", i.City}, {"state", i.State},
		{"zip", i.Zip}, {"country", i.Country}, {"dob", i.Dob}, {"ssn", i.Ssn},
	} {
		if f.v == "" {
			m = append(m, "info."+f.name)
		}
	}
	return m
}

// FailingSSN is the SSN (last 4) whose instant US database check fails, so
// POST /withdraw/kyc falls back to document verification (451, pending).
const FailingSSN = "0000"

type kycResponseJSON struct {
	Withdrawer backwardUserJSON `json:"withdrawer"`
}

// handleKYC is POST /withdraw/kyc for the user in x-coinflow-auth-user-id,
// creating the withdrawer if missing. A US info body passes the instant
// check (200, approved; KYC Created then KYC Success) unless its ssn is
// FailingSSN; anything else needs document verification (451, pending;
// KYC Created). An approved withdrawer gets 200 whatever the body.
func (e *Emulator) handleKYC(w http.ResponseWriter, r *http.Request) {
	var req kycRequest
	if !decodeBody(w, r, &req) {
		return
	}
	email, country := req.Email, req.Country
	instant := false
	if req.Info != nil {
		if m := req.Info.missing(); len(m) > 0 {
			writeMsg(w, http.StatusBadRequest, strings.Join(m, ", ")+" required")
			return
		}
		email, country = req.Info.Email, req.Info.Country
		instant = strings.EqualFold(country, "US") && req.Info.Ssn != FailingSSN
	} else if email == "" || country == "" {
		writeMsg(w, http.StatusBadRequest, "info, or email and country, required")
		return
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	userID := e.userID(r)
	wd := e.byUser[userID]
	if wd == nil {
		wd = e.newWithdrawerLocked(WithdrawerSpec{
			UserID: userID, Email: email, Country: country, Verification: VerificationPending,
		}, false)
		e.emitKYCLocked(wd, EventKYCCreated)
	} else if wd.verification != VerificationApproved && wd.verification != VerificationPending {
		e.setVerificationLocked(wd, VerificationPending) // a new attempt after rejection or expiry
	}
	if req.Info != nil {
		wd.address = &addressJSON{Address1: req.Info.PhysicalAddress, City: req.Info.City, State: req.Info.State, Zip: req.Info.Zip}
	}
	if wd.verification == VerificationApproved {
		writeJSON(w, http.StatusOK, kycResponseJSON{Withdrawer: e.backwardUserOf(wd)})
		return
	}
	if instant {
		e.setVerificationLocked(wd, VerificationApproved)
		writeJSON(w, http.StatusOK, kycResponseJSON{Withdrawer: e.backwardUserOf(wd)})
		return
	}
	e.writeVerificationRequired(w, wd, req.RedirectLink)
}

func (e *Emulator) backwardUserOf(wd *withdrawer) backwardUserJSON {
	return backwardUserJSON{withdrawerJSON: e.withdrawerJSONOf(wd), User: true, WatchlistExempt: "Passed"}
}
