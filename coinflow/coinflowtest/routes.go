package coinflowtest

import (
	"bytes"
	"crypto/subtle"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// auth is what a route requires.
type auth int

const (
	authMerchant auth = iota // Authorization == APIKey
	authUser                 // and a user named by x-coinflow-auth-user-id (or -wallet)
)

func (e *Emulator) routes() {
	e.mux = http.NewServeMux()
	e.api("GET /merchant/withdraws", OpListWithdraws, authMerchant, e.handleListWithdraws)
	e.api("GET /merchant/withdraws/{withdrawalId}", OpGetWithdraw, authMerchant, e.handleGetWithdraw)
	e.api("GET /merchant/withdraws/payout/balance", OpBalance, authMerchant, e.handleBalance)
	e.api("POST /merchant/withdraws/payout/delegated/quote", OpQuote, authMerchant, e.handleQuote)
	e.api("POST /merchant/withdraws/payout/delegated", OpPayout, authMerchant, e.handlePayout)
	e.api("GET /merchant/withdrawers", OpWithdrawers, authMerchant, e.handleListWithdrawers)
	e.api("PUT /merchant/block-withdrawer/{withdrawerId}", OpBlockWithdrawer, authMerchant, e.handleBlockWithdrawer)
	e.api("GET /merchant/webhooks", OpListWebhooks, authMerchant, e.handleListWebhooks)
	e.api("POST /merchant/webhooks/{webhookLogId}", OpResendWebhook, authMerchant, e.handleResendWebhook)
	e.api("GET /withdraw", OpGetWithdrawer, authUser, e.handleGetWithdrawer)
	e.api("GET /withdraw/quote", OpWithdrawQuote, authUser, e.handleWithdrawQuote)
	e.api("POST /withdraw/kyc", OpKYC, authUser, e.handleKYC)
	e.api("POST /withdraw/account", OpAddBankAccount, authUser, e.handleAddBankAccount)
	e.api("POST /withdraw/account/v2", OpAddBankAccount, authUser, e.handleAddBankAccount)
	e.api("POST /withdraw/debit-card", OpAddDebitCard, authUser, e.handleAddDebitCard)
	e.api("POST /withdraw/iban", OpAddIBAN, authUser, e.handleAddIBAN)
	e.api("POST /withdraw/pix", OpAddPIX, authUser, e.handleAddPIX)
	e.api("GET /auth/session-key", OpSessionKey, authUser, e.handleSessionKey)
	for _, d := range deleteRoutes {
		e.api("DELETE /withdraw/"+d.kind+"/{token}", d.op, authUser, e.handleDeleteDestination(d.kind))
	}
	e.controlRoutes()
	e.hostedKYCRoutes()
	e.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMsg(w, http.StatusNotFound, "Not found")
	})
}

// api registers an API operation: count the call, apply any fault, check
// the credentials, apply the rate limits (ratelimit.go), run the handler
// into a buffer, then answer (late or truncated if a fault says so, 429
// if its answer is over a rate limit).
func (e *Emulator) api(pattern, op string, a auth, h http.HandlerFunc) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.calls[op]++
		e.mu.Unlock()

		f, faulty := e.faults.match(op)
		if faulty && f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		if faulty && f.Status != 0 {
			e.hang(r, f.Hang)
			writeMsg(w, f.Status, faultMessage(f.Status))
			return
		}
		if !e.authorized(w, r, a) {
			return
		}
		if retry, refused := e.limitBefore(op); refused {
			writeThrottled(w, retry)
			return
		}
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		h(buf, r)
		if faulty {
			e.hang(r, f.Hang)
		}
		if retry, refused := e.limitAfter(op, buf.status); refused {
			writeThrottled(w, retry)
			return
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		body := buf.body.Bytes()
		if faulty && f.TruncateBody {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			body = body[:len(body)/2]
		}
		w.WriteHeader(buf.status)
		w.Write(body)
	})
}

func faultMessage(status int) string {
	switch status {
	case http.StatusServiceUnavailable:
		return "Payout encountered a temporary issue and needs to be retried"
	case http.StatusTooManyRequests:
		return "Too many requests"
	}
	return http.StatusText(status)
}

// hang waits d. If the client or the emulator goes away first it aborts
// the handler (http.ErrAbortHandler), so that no answer at all is sent.
func (e *Emulator) hang(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	case <-e.closed:
		panic(http.ErrAbortHandler)
	}
}

func (e *Emulator) keyOK(r *http.Request) bool {
	got := r.Header.Get("Authorization")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(e.opts.APIKey)) == 1
}

func (e *Emulator) authorized(w http.ResponseWriter, r *http.Request, a auth) bool {
	if !e.keyOK(r) {
		writeMsg(w, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	if a == authUser && e.userID(r) == "" {
		writeMsg(w, http.StatusUnauthorized, "Missing x-coinflow-auth-user-id")
		return false
	}
	return true
}

// userID is the end user named by x-coinflow-auth-user-id, or by an
// x-coinflow-auth-wallet of the form <merchantId>ʬ<userId>.
func (e *Emulator) userID(r *http.Request) string {
	if id := r.Header.Get("x-coinflow-auth-user-id"); id != "" {
		return id
	}
	id, _ := strings.CutPrefix(r.Header.Get("x-coinflow-auth-wallet"), e.opts.MerchantID+"ʬ")
	if id == r.Header.Get("x-coinflow-auth-wallet") {
		return ""
	}
	return id
}

// bufferedResponse holds a handler's answer until the fault layer lets it
// out.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
