package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// fixturesDir holds the recorded Coinflow webhook bodies that SPEC.md, the
// emulator and these tests share.
const fixturesDir = "../testdata/coinflow/fixtures/webhooks"

// vectorsFile is the one file in fixturesDir that is not a webhook body.
const vectorsFile = "signature-vectors.json"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir, name))
	require.NoError(t, err)
	return b
}

// webhookFixtures names every recorded webhook body.
func webhookFixtures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixturesDir, "*.json"))
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		if n := filepath.Base(p); n != vectorsFile {
			names = append(names, n)
		}
	}
	require.NotEmpty(t, names, "no webhook fixtures under %s", fixturesDir)
	return names
}

type fixtureMoney struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

// fixtureEvent reads a fixture independently of the code under test.
type fixtureEvent struct {
	EventType string `json:"eventType"`
	Category  string `json:"category"`
	Created   string `json:"created"`
	Data      struct {
		Wallet           string        `json:"wallet"`
		Blockchain       string        `json:"blockchain"`
		Email            string        `json:"email"`
		Signature        string        `json:"signature"`
		UserID           string        `json:"userId"`
		IdempotencyKey   string        `json:"idempotencyKey"`
		Total            *fixtureMoney `json:"total"`
		UserFees         *fixtureMoney `json:"userFees"`
		UserGasFees      *fixtureMoney `json:"userGasFees"`
		UserCustomFees   *fixtureMoney `json:"userCustomFees"`
		UserSwapFees     *fixtureMoney `json:"userSwapFees"`
		MerchantFees     *fixtureMoney `json:"merchantFees"`
		MerchantGasFees  *fixtureMoney `json:"merchantGasFees"`
		MerchantSwapFees *fixtureMoney `json:"merchantSwapFees"`
	} `json:"data"`
}

func (e fixtureEvent) created(t testing.TB) time.Time {
	t.Helper()
	c, err := time.Parse(time.RFC3339Nano, e.Created)
	require.NoError(t, err)
	return c
}

func feeSum(currency string, fees ...*fixtureMoney) models.Money {
	sum := models.Money{Currency: currency}
	for _, f := range fees {
		if f != nil {
			sum.Cents += f.Cents
		}
	}
	return sum
}

// fixtureWant is what one fixture must leave behind once applied.
type fixtureWant struct {
	eventType string
	// withdraw events
	status models.PayoutStatus
	detail string
	// KYC events
	userID       string
	verification models.VerificationStatus
	emailMasked  string
}

var fixtureWants = map[string]fixtureWant{
	"withdraw-pending.json":   {eventType: "Withdraw Pending", status: models.StatusPending},
	"withdraw-success.json":   {eventType: "Withdraw Success", status: models.StatusCompleted},
	"withdraw-failure.json":   {eventType: "Withdraw Failure", status: models.StatusFailed},
	"withdraw-unclaimed.json": {eventType: "Withdraw Unclaimed", status: models.StatusPending, detail: "unclaimed"},
	"withdraw-on-hold.json":   {eventType: "Withdraw On Hold", status: models.StatusInReview, detail: "on_hold"},
	"kyc-created.json":        {eventType: "KYC Created", userID: "u-1002", verification: models.VerificationPending, emailMasked: "b***@example.com"},
	"kyc-success.json":        {eventType: "KYC Success", userID: "u-1001", verification: models.VerificationApproved, emailMasked: "a***@example.com"},
	"kyc-failure.json":        {eventType: "KYC Failure", userID: "u-1003", verification: models.VerificationRejected, emailMasked: "c***@example.com"},
}

// authSchemes are Coinflow's two ways of authenticating a delivery.
var authSchemes = []struct {
	name   string
	header func(s *testserver.Server, body []byte) http.Header
}{
	{"signature", func(s *testserver.Server, body []byte) http.Header {
		return hdr("Content-Type", "application/json", "Coinflow-Signature", s.Sign(body))
	}},
	{"authorization", func(_ *testserver.Server, _ []byte) http.Header {
		return hdr("Content-Type", "application/json", "Authorization", testserver.WebhookKey)
	}},
}

func TestFixturesAreAccepted(t *testing.T) {
	t.Parallel()
	for _, name := range webhookFixtures(t) {
		want, ok := fixtureWants[name]
		require.True(t, ok, "fixture %s has no expectation in fixtureWants", name)
		body := readFixture(t, name)
		var ev fixtureEvent
		require.NoError(t, json.Unmarshal(body, &ev))
		require.Equal(t, want.eventType, ev.EventType, name)
		for _, scheme := range authSchemes {
			t.Run(name+"/"+scheme.name, func(t *testing.T) {
				t.Parallel()
				eachServer(t, nil, func(t *testing.T, s *testserver.Server) {
					got := send(t, s, request{body: body, header: scheme.header(s, body)})
					require.Equal(t, http.StatusOK, got.code, got.raw)
					require.Equal(t, "stored", got.status)
					// Committed before the answer, applied only by the applier.
					requireCounts(t, map[models.InboxStatus]int64{models.InboxPending: 1}, inboxCounts(t, s))
					require.Equal(t, 1, s.Drain(t))

					rows := inboxRows(t, s)
					require.Len(t, rows, 1)
					require.Equal(t, models.InboxApplied, rows[0].Status)
					require.Equal(t, body, rows[0].Body, "the raw body is stored byte for byte")
					require.Equal(t, ev.EventType, rows[0].EventType)
					require.True(t, strings.HasPrefix(rows[0].DedupKey, "ev:"), rows[0].DedupKey)
					require.Empty(t, findingRows(t, s))

					if want.verification == "" {
						checkWithdrawFixture(t, s, ev, want, rows[0].ID)
					} else {
						checkKYCFixture(t, s, ev, want)
					}
					requireCleanLogs(t, s, [][]byte{body})
				})
			})
		}
	}
}

func checkWithdrawFixture(t *testing.T, s *testserver.Server, ev fixtureEvent, want fixtureWant, inboxID int64) {
	t.Helper()
	ctx := t.Context()
	d := ev.Data
	require.NotNil(t, d.Total)
	amount := models.Money{Cents: d.Total.Cents, Currency: d.Total.Currency}
	userFees := feeSum(d.Total.Currency, d.UserFees, d.UserGasFees, d.UserCustomFees, d.UserSwapFees)
	merchantFees := feeSum(d.Total.Currency, d.MerchantFees, d.MerchantGasFees, d.MerchantSwapFees)

	require.EqualValues(t, 1, countRows(t, s, "payouts"))
	require.Zero(t, countRows(t, s, "withdrawers"))
	ps, _, err := s.Store.PayoutList(ctx, models.PayoutFilter{Transaction: d.Signature})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	p := ps[0]
	require.Equal(t, want.status, p.Status)
	require.Equal(t, want.detail, deref(p.StatusDetail))
	require.Equal(t, amount, p.Amount)
	require.Equal(t, userFees, p.UserFees)
	require.Equal(t, merchantFees, p.MerchantFees)
	require.Equal(t, d.Signature, deref(p.CoinflowTransaction))
	require.Equal(t, d.IdempotencyKey, deref(p.IdempotencyKey))
	require.Equal(t, d.UserID, p.UserID)
	require.Equal(t, models.OriginDiscovered, p.Source)
	require.True(t, ev.created(t).Equal(p.StatusAt), "status_at %s, created %s", p.StatusAt, ev.Created)

	hist, err := s.Store.PayoutHistoryList(ctx, p.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.True(t, hist[0].Applied)
	require.Equal(t, models.ReasonCreated, hist[0].Reason)
	require.Equal(t, models.SourceWebhook, hist[0].Source)
	require.Equal(t, string(want.status), hist[0].ToStatus)
	require.NotNil(t, hist[0].InboxEventID)
	require.Equal(t, inboxID, *hist[0].InboxEventID)

	var list testserver.PayoutPage
	require.Equal(t, http.StatusOK, s.API(t, http.MethodGet, "/api/v1/payouts?transaction="+url.QueryEscape(d.Signature), nil, &list))
	require.Len(t, list.Payouts, 1)
	v := list.Payouts[0]
	require.Equal(t, p.ID, v.ID)
	require.Equal(t, string(want.status), v.Status)
	require.Equal(t, want.detail, deref(v.StatusDetail))
	require.Equal(t, amount, v.Amount)
	require.Equal(t, userFees, v.Fees.User)
	require.Equal(t, merchantFees, v.Fees.Merchant)
	require.Equal(t, d.Signature, deref(v.Coinflow.Transaction))
	require.Equal(t, d.IdempotencyKey, deref(v.IdempotencyKey))
	require.Equal(t, d.UserID, v.UserID)
	require.Equal(t, "discovered", v.Source)

	list.Payouts = nil
	require.Equal(t, http.StatusOK, s.API(t, http.MethodGet, "/api/v1/payouts?idempotency_key="+url.QueryEscape(d.IdempotencyKey), nil, &list))
	require.Len(t, list.Payouts, 1)
	require.Equal(t, p.ID, list.Payouts[0].ID)

	var one testserver.Payout
	require.Equal(t, http.StatusOK, s.API(t, http.MethodGet, "/api/v1/payouts/"+p.ID, nil, &one))
	require.Len(t, one.History, 1)
	require.Equal(t, string(want.status), one.History[0].ToStatus)
	require.Equal(t, "webhook", one.History[0].Source)
	require.True(t, one.History[0].Applied)
}

func checkKYCFixture(t *testing.T, s *testserver.Server, ev fixtureEvent, want fixtureWant) {
	t.Helper()
	ctx := t.Context()
	d := ev.Data
	require.Contains(t, d.Email, "@", "the fixture carries a full email")
	require.Zero(t, countRows(t, s, "payouts"))
	require.EqualValues(t, 1, countRows(t, s, "withdrawers"))

	w, err := s.Store.WithdrawerGet(ctx, want.userID)
	require.NoError(t, err)
	require.Equal(t, want.userID, w.UserID)
	require.Equal(t, want.verification, w.VerificationStatus)
	require.Equal(t, want.emailMasked, w.EmailMasked)
	require.Equal(t, d.Wallet, w.Wallet)
	require.Equal(t, d.Blockchain, w.Blockchain)
	require.True(t, ev.created(t).Equal(w.VerificationAt), "verification_at %s, created %s", w.VerificationAt, ev.Created)

	for _, table := range []string{"withdrawers", "withdrawer_history"} {
		for _, row := range tableRows(t, s, table) {
			for col, v := range row {
				require.NotContains(t, fmt.Sprint(v), d.Email, "%s.%s keeps the full email", table, col)
			}
		}
	}

	var v testserver.Withdrawer
	require.Equal(t, http.StatusOK, s.API(t, http.MethodGet, "/api/v1/withdrawers/"+want.userID, nil, &v))
	require.Equal(t, want.userID, v.UserID)
	require.Equal(t, string(want.verification), v.VerificationStatus)
	require.Equal(t, want.emailMasked, v.Email)
	require.Equal(t, d.Wallet, v.Wallet)
	require.Len(t, v.History, 1)
	require.Equal(t, string(want.verification), v.History[0].ToStatus)
	require.True(t, v.History[0].Applied)
	require.Equal(t, "webhook", v.History[0].Source)

	// The withdrawer is keyed by the user id, not by the merchantʬuser wallet.
	require.Equal(t, http.StatusNotFound, s.API(t, http.MethodGet, "/api/v1/withdrawers/"+url.PathEscape(d.Wallet), nil, nil))
}

type signatureVector struct {
	Name          string            `json:"name"`
	ValidationKey string            `json:"validationKey"`
	RawBody       string            `json:"rawBody"`
	Headers       map[string]string `json:"headers"`
	Expect        string            `json:"expect"`
}

func loadVectors(t testing.TB) []signatureVector {
	t.Helper()
	var file struct {
		Vectors []signatureVector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(readFixture(t, vectorsFile), &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

// vectorTime reads t= from a vector's header by hand, so that the clock is
// not set by the parser under test.
func vectorTime(t testing.TB, v signatureVector) time.Time {
	t.Helper()
	for part := range strings.SplitSeq(v.Headers["Coinflow-Signature"], ",") {
		if ts, ok := strings.CutPrefix(part, "t="); ok {
			n, err := strconv.ParseInt(ts, 10, 64)
			require.NoError(t, err)
			return time.Unix(n, 0).UTC()
		}
	}
	t.Fatalf("vector %q has no t=", v.Name)
	return time.Time{}
}

// vectorSignatureValid maps a vector's expectation to whether its
// Coinflow-Signature verifies.
func vectorSignatureValid(t testing.TB, v signatureVector) bool {
	t.Helper()
	switch {
	case v.Expect == "valid":
		return true
	case v.Expect == "invalid-signature":
		return false
	case strings.HasPrefix(v.Expect, "invalid-authorization"):
		require.Contains(t, v.Expect, "signature still valid")
		return true
	}
	t.Fatalf("vector %q: unknown expect %q", v.Name, v.Expect)
	return false
}

func TestSignatureVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, testserver.WebhookKey, v.ValidationKey)
			key, header, body := []byte(v.ValidationKey), v.Headers["Coinflow-Signature"], []byte(v.RawBody)
			at := vectorTime(t, v)
			err := webhook.VerifySignature(key, header, body, at, 5*time.Minute)
			if vectorSignatureValid(t, v) {
				require.NoError(t, err)
				require.Equal(t, header, webhook.Sign(key, at, body), "Sign reproduces the vector")
				m := hmac.New(sha256.New, key)
				fmt.Fprintf(m, "%d.%s", at.Unix(), v.RawBody)
				require.Equal(t, header, fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(m.Sum(nil))))
				// One second outside the tolerance the same vector is stale.
				require.ErrorIs(t, webhook.VerifySignature(key, header, body, at.Add(5*time.Minute+time.Second), 5*time.Minute), webhook.ErrStaleSignature)
			} else {
				require.ErrorIs(t, err, webhook.ErrBadSignature)
			}
			require.Equal(t, v.Headers["Authorization"] == v.ValidationKey, !strings.HasPrefix(v.Expect, "invalid-authorization"))
		})
	}
}

func TestSignatureVectorsOverHTTP(t *testing.T) {
	t.Parallel()
	vectors := loadVectors(t)

	t.Run("every vector with its headers", func(t *testing.T) {
		t.Parallel()
		eachServer(t, nil, func(t *testing.T, s *testserver.Server) {
			seen := map[string]bool{}
			var stored [][]byte
			unauthenticated := 0
			for _, v := range vectors {
				s.Clock.Set(vectorTime(t, v))
				got := send(t, s, request{body: []byte(v.RawBody), header: hdr(
					"Authorization", v.Headers["Authorization"], "Coinflow-Signature", v.Headers["Coinflow-Signature"])})
				if !vectorSignatureValid(t, v) {
					// A present failing signature loses even to a matching Authorization.
					require.Equal(t, v.ValidationKey, v.Headers["Authorization"])
					require.Equal(t, http.StatusUnauthorized, got.code, v.Name)
					unauthenticated++
					continue
				}
				require.Equal(t, http.StatusOK, got.code, "%s: %s", v.Name, got.raw)
				if seen[v.RawBody] {
					require.Equal(t, "duplicate", got.status, v.Name)
				} else {
					require.Equal(t, "stored", got.status, v.Name)
					stored = append(stored, []byte(v.RawBody))
				}
				seen[v.RawBody] = true
			}
			s.Drain(t)
			requireCounts(t, map[models.InboxStatus]int64{models.InboxApplied: int64(len(stored))}, inboxCounts(t, s))
			require.Equal(t, float64(unauthenticated), counterValue(t, s, "none", "unauthenticated"))
			requireStoredBodies(t, s, stored)
			requireCleanLogs(t, s, stored)
		})
	})

	t.Run("wrong authorization", func(t *testing.T) {
		t.Parallel()
		var v signatureVector
		for _, c := range vectors {
			if strings.HasPrefix(c.Expect, "invalid-authorization") {
				v = c
			}
		}
		require.NotEmpty(t, v.RawBody, "no wrong-Authorization vector")
		require.NotEqual(t, v.ValidationKey, v.Headers["Authorization"])
		eachServer(t, nil, func(t *testing.T, s *testserver.Server) {
			s.Clock.Set(vectorTime(t, v))
			body := []byte(v.RawBody)

			// Without the signature, the wrong Authorization alone is refused.
			got := send(t, s, request{body: body, header: hdr("Authorization", v.Headers["Authorization"])})
			require.Equal(t, http.StatusUnauthorized, got.code, got.raw)
			require.Equal(t, "unauthenticated", got.errCode)
			require.Zero(t, countRows(t, s, "inbox_events"))
			require.Equal(t, 1.0, counterValue(t, s, "none", "unauthenticated"))

			// With it, the valid signature decides.
			got = send(t, s, request{body: body, header: hdr(
				"Authorization", v.Headers["Authorization"], "Coinflow-Signature", v.Headers["Coinflow-Signature"])})
			require.Equal(t, http.StatusOK, got.code, got.raw)
			require.Equal(t, "stored", got.status)
			require.Equal(t, 1, s.Drain(t))
			requireCounts(t, map[models.InboxStatus]int64{models.InboxApplied: 1}, inboxCounts(t, s))
			requireStoredBodies(t, s, [][]byte{body})
			ps, _, err := s.Store.PayoutList(t.Context(), models.PayoutFilter{})
			require.NoError(t, err)
			require.Len(t, ps, 1)
			require.Equal(t, models.StatusCompleted, ps[0].Status)
			require.Equal(t, 1.0, counterValue(t, s, "none", "unauthenticated"))
			requireCleanLogs(t, s, [][]byte{body})
		})
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
