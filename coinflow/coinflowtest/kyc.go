package coinflowtest

import (
	"net/http"
	"strings"
	"time"
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

// check validates a US info body as of now (the emulator clock) and
// returns the message of a 400 naming the bad fields, or "": every field
// is required; ssn is the last 4 digits (the spec's "4 Digit SSN", what
// payoutd sends); dob is a real YYYYMMDD date not after today; country is
// an ISO 3166-1 alpha-2 code ([ASSUMED] in either case).
func (i *kycInfo) check(now time.Time) string {
	var m []string
	for _, f := range []struct{ name, v string }{
		{"email", i.Email}, {"firstName", i.FirstName}, {"surName", i.SurName},
		{"physicalAddress", i.PhysicalAddress}, {"city", i.City}, {"state", i.State},
		{"zip", i.Zip}, {"country", i.Country}, {"dob", i.Dob}, {"ssn", i.Ssn},
	} {
		if strings.TrimSpace(f.v) == "" {
			m = append(m, "info."+f.name)
		}
	}
	if len(m) > 0 {
		return strings.Join(m, ", ") + " required"
	}
	if len(i.Ssn) != 4 || !isDigits(i.Ssn) {
		return "info.ssn must be the last 4 digits of the SSN"
	}
	dob, err := time.Parse("20060102", i.Dob)
	if len(i.Dob) != 8 || !isDigits(i.Dob) || err != nil {
		return "info.dob must be a date in YYYYMMDD format"
	}
	if y, mo, d := now.Date(); dob.After(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)) {
		return "info.dob must not be in the future"
	}
	if !validCountry(strings.ToUpper(i.Country)) {
		return "info.country must be an ISO 3166-1 alpha-2 code"
	}
	return ""
}

// check validates the body as of now and returns the email and country
// (upper case) it registers, or the message of a 400.
func (q *kycRequest) check(now time.Time) (email, country, msg string) {
	if q.Info != nil {
		if msg := q.Info.check(now); msg != "" {
			return "", "", msg
		}
		return q.Info.Email, strings.ToUpper(q.Info.Country), ""
	}
	switch {
	case strings.TrimSpace(q.Email) == "" || strings.TrimSpace(q.Country) == "":
		return "", "", "info, or email and country, required"
	case !validCountry(strings.ToUpper(q.Country)):
		return "", "", "country must be an ISO 3166-1 alpha-2 code"
	}
	return q.Email, strings.ToUpper(q.Country), ""
}

// FailingSSN is the SSN (last 4) whose instant US database check fails, so
// POST /withdraw/kyc falls back to document verification (451, pending).
const FailingSSN = "0000"

// msgWithdrawerExists is the 409 of POST /withdraw/kyc for a withdrawer
// already registered and approved (the spec's 409).
const msgWithdrawerExists = "Withdrawer already exists for this wallet and merchant"

type kycResponseJSON struct {
	Withdrawer backwardUserJSON `json:"withdrawer"`
}

// handleKYC is POST /withdraw/kyc for the user in x-coinflow-auth-user-id,
// creating the withdrawer if missing (KYC Created). The body is checked
// first (400 naming the field). Then: an approved withdrawer is a 409; a
// pending one (or partial-approval) gets its 451 again, same link, no
// event; a rejected or expired one starts a new attempt (pending, KYC
// Created). A US info body then passes the instant check (200, approved,
// KYC Success) unless its ssn is FailingSSN; anything else needs document
// verification (451, pending) completed through the verificationLink
// (hosted by the emulator, see hostedkyc.go) or CompleteVerification. An
// info body puts its address on file.
func (e *Emulator) handleKYC(w http.ResponseWriter, r *http.Request) {
	var req kycRequest
	if !decodeBody(w, r, &req) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	email, country, msg := req.check(e.now)
	if msg != "" {
		writeMsg(w, http.StatusBadRequest, msg)
		return
	}
	wd := e.byUser[e.userID(r)]
	switch {
	case wd == nil:
		wd = e.newWithdrawerLocked(WithdrawerSpec{
			UserID: e.userID(r), Email: email, Country: country, Verification: VerificationPending, NoAddress: true,
		}, false)
		e.emitKYCLocked(wd, EventKYCCreated)
	case wd.verification == VerificationApproved:
		writeMsg(w, http.StatusConflict, msgWithdrawerExists)
		return
	case wd.verification == VerificationPending || wd.verification == VerificationPartial:
		e.writeVerificationRequired(w, wd, req.RedirectLink)
		return
	default:
		e.setVerificationLocked(wd, VerificationPending) // a new attempt after rejection or expiry
	}
	if req.Info != nil {
		wd.address = &addressJSON{Address1: req.Info.PhysicalAddress, City: req.Info.City, State: req.Info.State, Zip: req.Info.Zip}
		if country == "US" && req.Info.Ssn != FailingSSN {
			e.setVerificationLocked(wd, VerificationApproved)
			writeJSON(w, http.StatusOK, kycResponseJSON{Withdrawer: e.backwardUserOf(wd)})
			return
		}
	}
	wd.docV = true // document verification: the hosted page
	e.writeVerificationRequired(w, wd, req.RedirectLink)
}

func (e *Emulator) backwardUserOf(wd *withdrawer) backwardUserJSON {
	return backwardUserJSON{withdrawerJSON: e.withdrawerJSONOf(wd), User: true, WatchlistExempt: "Passed"}
}
