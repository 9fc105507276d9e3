package coinflowtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// usInfo is a valid US info body with the fields of over replaced ("" for
// a field removes it).
func usInfo(over map[string]string) map[string]any {
	info := map[string]any{
		"email": "alice@example.com", "firstName": "Alice", "surName": "Smith", "physicalAddress": "1 Main St",
		"city": "Springfield", "state": "IL", "zip": "62701", "country": "US", "dob": "19900101", "ssn": "1234",
	}
	for k, v := range over {
		if v == "" {
			delete(info, k)
		} else {
			info[k] = v
		}
	}
	return map[string]any{"info": info}
}

// kycAnswer is what the KYC and GET /withdraw answers carry.
type kycAnswer struct {
	VerificationLink string `json:"verificationLink"`
	Verification     struct {
		Reference string `json:"reference"`
		Status    string `json:"status"`
	} `json:"verification"`
	Withdrawer struct {
		Currency         string `json:"currency"`
		OriginalCurrency string `json:"originalCurrency"`
		Country          string `json:"country"`
		Verification     struct {
			Status string `json:"status"`
		} `json:"verification"`
	} `json:"withdrawer"`
}

func TestKYCValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true}) // the clock says 2025-06-02
	for _, tc := range []struct {
		name string
		body any
		msg  string
	}{
		{"no ssn", usInfo(map[string]string{"ssn": ""}), "info.ssn required"},
		{"several missing", usInfo(map[string]string{"zip": "", "city": " "}), "info.city, info.zip required"},
		{"ssn of 3 digits", usInfo(map[string]string{"ssn": "123"}), "info.ssn must be the last 4 digits of the SSN"},
		{"full ssn", usInfo(map[string]string{"ssn": "123-45-6789"}), "info.ssn must be the last 4 digits of the SSN"},
		{"ssn of 9 digits", usInfo(map[string]string{"ssn": "123456789"}), "info.ssn must be the last 4 digits of the SSN"},
		{"ssn with a letter", usInfo(map[string]string{"ssn": "12a4"}), "info.ssn must be the last 4 digits of the SSN"},
		{"dob with dashes", usInfo(map[string]string{"dob": "1990-01-01"}), "info.dob must be a date in YYYYMMDD format"},
		{"dob February 30", usInfo(map[string]string{"dob": "19900230"}), "info.dob must be a date in YYYYMMDD format"},
		{"dob month 13", usInfo(map[string]string{"dob": "19901301"}), "info.dob must be a date in YYYYMMDD format"},
		{"dob MMDDYYYY", usInfo(map[string]string{"dob": "01311990"}), "info.dob must be a date in YYYYMMDD format"},
		{"dob tomorrow", usInfo(map[string]string{"dob": "20250603"}), "info.dob must not be in the future"},
		{"country alpha-3", usInfo(map[string]string{"country": "USA"}), "info.country must be an ISO 3166-1 alpha-2 code"},
		{"country unassigned", usInfo(map[string]string{"country": "XX"}), "info.country must be an ISO 3166-1 alpha-2 code"},
		{"doc body without country", map[string]any{"email": "b@example.com"}, "info, or email and country, required"},
		{"doc body country name", map[string]any{"email": "b@example.com", "country": "Germany"}, "country must be an ISO 3166-1 alpha-2 code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.call(t, http.MethodPost, "/withdraw/kyc", tc.body, "x-coinflow-auth-user-id", "u-bad")
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			require.Equal(t, tc.msg, r.msg(t))
		})
	}
	_, ok := b.srv.Withdrawer("u-bad")
	require.False(t, ok, "a refused KYC creates nobody")

	// Born today is fine; a lower-case country is read as its code.
	b.specCall(t, http.StatusOK, http.MethodPost, "/withdraw/kyc", usInfo(map[string]string{"dob": "20250602", "country": "us"}), "x-coinflow-auth-user-id", "u-today")
}

func TestKYCFlows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		body     any
		status   int    // first answer
		currency string // currency and originalCurrency
		address  bool   // on file afterwards
		events   []string
	}{
		{"US instant check", usInfo(nil), 200, "USD", true, []string{"KYC Created", "KYC Success"}},
		{"US check fails", usInfo(map[string]string{"ssn": coinflowtest.FailingSSN}), 451, "USD", true, []string{"KYC Created"}},
		{"US info from abroad", usInfo(map[string]string{"country": "GB"}), 451, "GBP", true, []string{"KYC Created"}},
		{"Germany", map[string]any{"email": "d@example.com", "country": "DE"}, 451, "EUR", false, []string{"KYC Created"}},
		{"France", map[string]any{"email": "f@example.com", "country": "FR"}, 451, "EUR", false, []string{"KYC Created"}},
		{"UK", map[string]any{"email": "g@example.com", "country": "GB"}, 451, "GBP", false, []string{"KYC Created"}},
		{"Brazil", map[string]any{"email": "h@example.com", "country": "BR"}, 451, "BRL", false, []string{"KYC Created"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			hdr := []string{"x-coinflow-auth-user-id", "u-1"}
			var a kycAnswer
			b.specCall(t, tc.status, http.MethodPost, "/withdraw/kyc", tc.body, hdr...).decode(t, &a)
			require.Equal(t, tc.currency, a.Withdrawer.Currency)
			require.Equal(t, tc.currency, a.Withdrawer.OriginalCurrency)
			w, _ := b.srv.Withdrawer("u-1")
			require.Equal(t, tc.currency, w.OriginalCurrency)
			require.Equal(t, tc.address, w.HasAddress)
			var all []struct {
				OriginalCurrency string `json:"originalCurrency"`
			}
			b.call(t, http.MethodGet, "/merchant/withdrawers", nil).decode(t, &all)
			require.Equal(t, tc.currency, all[0].OriginalCurrency)

			if tc.status == 200 {
				require.Equal(t, "approved", a.Withdrawer.Verification.Status)
				// Registered and approved: the spec's 409.
				r := b.specCall(t, http.StatusConflict, http.MethodPost, "/withdraw/kyc", tc.body, hdr...)
				require.Equal(t, "Withdrawer already exists for this wallet and merchant", r.msg(t))
			} else {
				require.Equal(t, "pending", a.Verification.Status)
				require.True(t, strings.HasPrefix(a.VerificationLink, b.srv.URL+"/_sim/kyc/"), a.VerificationLink)
				// Pending: the same 451 and link again, and no new event.
				var again kycAnswer
				b.specCall(t, http.StatusUnavailableForLegalReasons, http.MethodPost, "/withdraw/kyc", tc.body, hdr...).decode(t, &again)
				require.Equal(t, a.VerificationLink, again.VerificationLink)
				require.Equal(t, a.Verification.Reference, again.Verification.Reference)
			}
			b.wait(t)
			require.Equal(t, tc.events, eventTypes(b.hook.envelopes(t)))
		})
	}
}

// browser is an HTTP client without the API key that does not follow
// redirects: a person's browser opening a verificationLink.
func browser(t *testing.T, method, link, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, link, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(raw)
}

func TestHostedVerification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		redirect    string // redirectLink of the KYC request
		status      int    // of the POST
		location    string // of a 303
		verified    string // the withdrawer's status afterwards
		event       string // the last event
	}{
		{"form approves", "application/x-www-form-urlencoded", "result=approved", "", 200, "", "approved", "KYC Success"},
		{"form rejects", "application/x-www-form-urlencoded", "result=rejected", "", 200, "", "rejected", "KYC Failure"},
		{"form approves and redirects", "application/x-www-form-urlencoded", "result=approved", "https://acme.example/done?x=1", 303, "https://acme.example/done?x=1", "approved", "KYC Success"},
		{"json approves", "application/json", `{"result":"approved"}`, "https://acme.example/done", 200, "", "approved", "KYC Success"},
		{"json rejects", "application/json; charset=utf-8", `{"result":"rejected"}`, "", 200, "", "rejected", "KYC Failure"},
		{"unknown result", "application/x-www-form-urlencoded", "result=maybe", "", 400, "", "pending", "KYC Created"},
		{"no result", "application/json", `{}`, "", 400, "", "pending", "KYC Created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			body := map[string]any{"email": "d@example.com", "country": "DE"}
			if tc.redirect != "" {
				body["redirectLink"] = tc.redirect
			}
			var a kycAnswer
			b.call(t, http.MethodPost, "/withdraw/kyc", body, "x-coinflow-auth-user-id", "u-de").decode(t, &a)
			link := a.VerificationLink
			require.Equal(t, b.srv.URL+"/_sim/kyc/"+a.Verification.Reference, strings.Split(link, "?")[0])

			status, hdr, page := browser(t, http.MethodGet, link, "", "")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
			require.Contains(t, page, `<form method="post"`)
			require.Contains(t, page, `value="approved"`)

			status, hdr, _ = browser(t, http.MethodPost, link, tc.contentType, tc.body)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.location, hdr.Get("Location"))
			w, _ := b.srv.Withdrawer("u-de")
			require.Equal(t, tc.verified, w.Verification)
			b.wait(t)
			envs := eventTypes(b.hook.envelopes(t))
			require.Equal(t, tc.event, envs[len(envs)-1])
			if tc.status >= 400 {
				return
			}
			// Done: the page has no buttons any more, and a second answer is refused.
			_, _, page = browser(t, http.MethodGet, link, "", "")
			require.NotContains(t, page, "<form")
			status, _, _ = browser(t, http.MethodPost, link, tc.contentType, tc.body)
			require.Equal(t, http.StatusConflict, status)
			// GET /withdraw now tells the outcome.
			r := b.call(t, http.MethodGet, "/withdraw", nil, "x-coinflow-auth-user-id", "u-de")
			if tc.verified == "approved" {
				require.Equal(t, http.StatusOK, r.Status)
			} else {
				require.Equal(t, http.StatusUnavailableForLegalReasons, r.Status)
				// A rejected withdrawer may register again: a new attempt.
				b.specCall(t, http.StatusUnavailableForLegalReasons, http.MethodPost, "/withdraw/kyc", body, "x-coinflow-auth-user-id", "u-de")
				w, _ := b.srv.Withdrawer("u-de")
				require.Equal(t, "pending", w.Verification)
			}
		})
	}
}

func TestHostedVerificationUnknownReference(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		status, _, body := browser(t, m, b.srv.URL+"/_sim/kyc/app_nope", "application/x-www-form-urlencoded", "result=approved")
		require.Equal(t, http.StatusNotFound, status, m)
		require.JSONEq(t, `{"msg":"Verification not found"}`, body)
	}
}

func TestCompleteVerification(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-p", Country: "DE", Verification: "pending", IBANToken: "iban_p"})
	require.NoError(t, err)
	_, err = b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-q", Verification: "partial-approval"})
	require.NoError(t, err)
	b.addUser(t, "u-ok")

	require.ErrorIs(t, b.srv.CompleteVerification("u-x", true), coinflowtest.ErrNotFound)
	require.ErrorIs(t, b.srv.CompleteVerification("u-ok", true), coinflowtest.ErrInvalidTransition)
	require.Equal(t, http.StatusUnavailableForLegalReasons, b.payoutIn(t, "u-p", "iban_p", "iban", 100, "", key(1)).Status)
	require.NoError(t, b.srv.CompleteVerification("u-p", true))
	require.Equal(t, http.StatusOK, b.payoutIn(t, "u-p", "iban_p", "iban", 100, "", key(1)).Status)
	require.NoError(t, b.srv.CompleteVerification("u-q", false))
	require.ErrorIs(t, b.srv.CompleteVerification("u-q", true), coinflowtest.ErrInvalidTransition)
	w, _ := b.srv.Withdrawer("u-q")
	require.Equal(t, "rejected", w.Verification)
	b.wait(t)
	require.Equal(t, []string{"KYC Success", "Withdraw Pending", "KYC Failure"}, eventTypes(b.hook.envelopes(t)))
}

func TestVerificationLinkWithoutServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, country, base, prefix string
	}{
		{"US, no URL known", "US", "", "https://withpersona.com/verify?inquiry-id=inq_"},
		{"abroad, no URL known", "DE", "", "https://in.sumsub.com/websdk/p/"},
		{"BaseURL set", "DE", "http://sim.example:8080/", "http://sim.example:8080/_sim/kyc/app_"},
		{"US seeded pending: at Persona even with a URL", "US", "http://sim.example:8080", "https://withpersona.com/verify?inquiry-id=inq_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := coinflowtest.New(coinflowtest.Options{BaseURL: tc.base})
			defer e.Close()
			_, err := e.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1", Country: tc.country, Verification: "pending"})
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodGet, "/withdraw", nil)
			req.Header.Set("Authorization", e.APIKey())
			req.Header.Set("x-coinflow-auth-user-id", "u-1")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, http.StatusUnavailableForLegalReasons, rec.Code)
			require.Contains(t, rec.Body.String(), `"verificationLink":"`+tc.prefix)
			if strings.HasPrefix(tc.prefix, "http://sim.example") {
				var a kycAnswer
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
				u, err := url.Parse(a.VerificationLink)
				require.NoError(t, err)
				rec = httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.Path, nil))
				require.Equal(t, http.StatusOK, rec.Code, "served by the emulator, without the API key")
			}
		})
	}
}
