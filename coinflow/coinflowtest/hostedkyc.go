package coinflowtest

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// The hosted verification page stands in for the vendor's flow (Persona,
// Sumsub) that a verificationLink opens in the person's browser: GET shows
// a page with Approve and Reject buttons, POST completes the verification
// as the vendor's decision would (KYC Success or KYC Failure). A browser
// carries no API key, so these routes need none; they are not API
// operations (not counted, faulted or rate limited).

// hostedKYCRoutes registers GET and POST /_sim/kyc/{reference}.
func (e *Emulator) hostedKYCRoutes() {
	e.mux.HandleFunc("GET /_sim/kyc/{reference}", e.hostedKYCPage)
	e.mux.HandleFunc("POST /_sim/kyc/{reference}", e.hostedKYCSubmit)
}

var hostedKYCTemplate = template.Must(template.New("kyc").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Identity verification</title></head>
<body>
<h1>Identity verification</h1>
<p>Withdrawer {{.Email}} ({{.Country}}), reference {{.Reference}}: verification {{.Status}}.</p>
{{if .Open}}<form method="post" action="{{.Action}}">
<button type="submit" name="result" value="approved">Approve</button>
<button type="submit" name="result" value="rejected">Reject</button>
</form>{{end}}
</body>
</html>
`))

// hostedKYCView is what the page shows.
type hostedKYCView struct {
	Email, Country, Reference, Status string
	Action                            string // the form's target: this page, query included
	Open                              bool   // verification can still be completed
}

// hostedKYCPage is GET /_sim/kyc/{reference}: the verification page, 404
// {"msg"} for an unknown reference.
func (e *Emulator) hostedKYCPage(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	wd := e.byReference[r.PathValue("reference")]
	var v hostedKYCView
	if wd != nil {
		v = hostedKYCView{
			Email: wd.email, Country: wd.country, Reference: wd.reference, Status: wd.verification,
			Action: r.URL.RequestURI(), Open: verificationOpen(wd.verification),
		}
	}
	e.mu.Unlock()
	if wd == nil {
		writeMsg(w, http.StatusNotFound, "Verification not found")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	hostedKYCTemplate.Execute(w, v)
}

// hostedKYCResultJSON answers a JSON POST to the page.
type hostedKYCResultJSON struct {
	Reference string `json:"reference"`
	Status    string `json:"status"`
}

// hostedKYCSubmit is POST /_sim/kyc/{reference} with result=approved or
// result=rejected, as a form or as JSON {"result": ...}. It answers 404
// for an unknown reference, 400 for another result, 409 when the
// verification is not pending any more. A JSON request gets {reference,
// status}; a form gets a 303 to the link's redirect-uri when it has one
// (where the merchant wanted the user to land), else the page again.
func (e *Emulator) hostedKYCSubmit(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("reference")
	e.mu.Lock()
	wd := e.byReference[ref]
	e.mu.Unlock()
	if wd == nil {
		writeMsg(w, http.StatusNotFound, "Verification not found")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := mt == "application/json"
	var result string
	if isJSON {
		var body struct {
			Result string `json:"result"`
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil || json.Unmarshal(raw, &body) != nil {
			writeMsg(w, http.StatusBadRequest, "Invalid JSON body")
			return
		}
		result = body.Result
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			writeMsg(w, http.StatusBadRequest, "Invalid form body")
			return
		}
		result = r.PostForm.Get("result")
	}
	if result != VerificationApproved && result != VerificationRejected {
		writeMsg(w, http.StatusBadRequest, "result must be approved or rejected")
		return
	}
	if err := e.completeVerification(wd, result == VerificationApproved); err != nil {
		writeControlError(w, err)
		return
	}
	switch redirect := r.URL.Query().Get("redirect-uri"); {
	case isJSON:
		writeJSON(w, http.StatusOK, hostedKYCResultJSON{Reference: ref, Status: result})
	case redirect != "" && safeRedirect(redirect):
		http.Redirect(w, r, redirect, http.StatusSeeOther)
	default:
		e.hostedKYCPage(w, r)
	}
}

// safeRedirect accepts absolute http(s) URLs only.
func safeRedirect(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// verificationOpen reports whether a verification in status can still be
// completed: pending, or partial-approval.
func verificationOpen(status string) bool {
	return status == VerificationPending || status == VerificationPartial
}

// CompleteVerification completes a withdrawer's outstanding (pending or
// partial-approval) verification as the vendor's decision would, like the
// hosted page's buttons: approved -> KYC Success, rejected -> KYC Failure.
// ErrNotFound for an unknown user, ErrInvalidTransition when nothing is
// outstanding.
func (e *Emulator) CompleteVerification(userID string, approved bool) error {
	e.mu.Lock()
	wd := e.byUser[userID]
	e.mu.Unlock()
	if wd == nil {
		return fmt.Errorf("complete verification %s: %w", userID, ErrNotFound)
	}
	return e.completeVerification(wd, approved)
}

// completeVerification is CompleteVerification for a found withdrawer.
func (e *Emulator) completeVerification(wd *withdrawer, approved bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !verificationOpen(wd.verification) {
		return fmt.Errorf("complete verification %s: %s is not outstanding: %w", wd.userID, wd.verification, ErrInvalidTransition)
	}
	status := VerificationRejected
	if approved {
		status = VerificationApproved
	}
	e.setVerificationLocked(wd, status)
	return nil
}
