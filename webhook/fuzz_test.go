package webhook_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

func FuzzParseSignatureHeader(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Headers["Coinflow-Signature"], []byte(v.RawBody))
	}
	for _, h := range []string{
		"", "t=", "v1=", ",", "=", "t=1,v1=" + hexA + ",v1=" + hexB, " t=1 , v1=" + hexA + " ",
		"t=+1,v1=" + hexA, "t=1,t=1,v1=" + hexA, "t=1,v1=" + hexA[:63] + "G", "t=99999999999999999999,v1=" + hexA,
		"t=1,v1=" + strings.ToUpper(hexA) + ",v2=x,foo",
	} {
		f.Add(h, []byte(`{"eventType":"Withdraw Pending"}`))
	}
	key := []byte(sigKey)
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		sh, err := webhook.ParseSignatureHeader(header)
		if err != nil {
			require.ErrorIs(t, err, webhook.ErrMalformedSignature)
			require.Equal(t, webhook.SignatureHeader{}, sh)
		} else {
			require.LessOrEqual(t, len(header), 1024)
			require.NotEmpty(t, sh.Timestamp)
			for i := range len(sh.Timestamp) {
				require.True(t, sh.Timestamp[i] >= '0' && sh.Timestamp[i] <= '9', "timestamp %q", sh.Timestamp)
			}
			n, perr := strconv.ParseInt(sh.Timestamp, 10, 64)
			require.NoError(t, perr)
			require.Equal(t, n, sh.Unix)
			require.NotEmpty(t, sh.V1)
			for _, mac := range sh.V1 {
				require.Len(t, mac, 32)
			}
		}

		now := time.Unix(sh.Unix, 0)
		verr := webhook.VerifySignature(key, header, body, now, 5*time.Minute)
		switch {
		case verr == nil:
			require.NoError(t, err, "verified a header that does not parse")
			// It verified, so one v1 is the MAC of exactly these bytes.
			require.ErrorIs(t, webhook.VerifySignature(key, header, append(body[:len(body):len(body)], 'x'), now, 5*time.Minute), webhook.ErrBadSignature)
		case err != nil:
			require.ErrorIs(t, verr, webhook.ErrMalformedSignature)
		default:
			require.ErrorIs(t, verr, webhook.ErrBadSignature, "the clock is at t, so only the MAC can fail")
		}

		// Signing the body at t always verifies.
		signed := webhook.Sign(key, now, body)
		require.NoError(t, webhook.VerifySignature(key, signed, body, now, 0))
	})
}

func FuzzDecode(f *testing.F) {
	for _, name := range webhookFixtures(f) {
		f.Add(readFixture(f, name))
	}
	for _, v := range loadVectors(f) {
		f.Add([]byte(v.RawBody))
	}
	for _, b := range []string{
		"", " ", "{", "}", "[]", "null", `"x"`, "{}", "\xff{}", `{"eventType":""}`,
		`{"eventType":"Withdraw Pending"}`,
		`{"eventType":"Withdraw Pending","created":"2025-06-02T14:03:12Z","data":null}`,
		`{"eventType":"Withdraw Pending","created":"2025-06-02T14:03:12Z","data":{"signature":"s","userId":"u","total":{"cents":-1,"currency":"USD"}}}`,
		`{"eventType":"Withdraw Success","created":"2025-06-02T14:03:12Z","data":{"signature":"s","wallet":"mʬu","total":{"cents":1,"currency":"USD"},"userFees":{"cents":9223372036854775807,"currency":"USD"},"userGasFees":{"cents":1,"currency":"USD"}}}`,
		`{"eventType":"Withdraw Success","created":"2025-06-02T14:03:12Z","data":{"signature":"s","userId":"u","total":{"cents":"7","currency":"USD"}}}`,
		`{"eventType":"KYC Success","created":"2025-05-01T12:00:02Z","data":{"wallet":"mʬ","email":"é@x.io"}}`,
		`{"eventType":"KYC Created","created":"2025-05-01T12:00:02+02:00","data":{"wallet":"w","email":"@"}}`,
		`{"eventType":"Settled","category":"Purchase","created":"x","data":[]}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := inbox.Decode(body)
		if err != nil {
			untracked, unprocessable := errors.Is(err, inbox.ErrUntracked), errors.Is(err, inbox.ErrUnprocessable)
			require.True(t, untracked != unprocessable, "error %v wraps neither or both", err)
			// Decode hands back a typed nil pointer with some errors (see
			// TestDecode); nothing but nil may come with an error.
			require.Nil(t, v)
			v = nil
		}
		switch e := v.(type) {
		case nil:
			require.Error(t, err)
		case *inbox.WithdrawEvent:
			require.NoError(t, err)
			require.NotNil(t, e)
			require.True(t, inbox.Tracked(e.Type))
			require.True(t, strings.HasPrefix(e.Type, "Withdraw "), e.Type)
			require.True(t, e.Status.Valid(), e.Status)
			require.NotEmpty(t, e.Signature)
			require.NotEmpty(t, e.UserID)
			require.False(t, e.Created.IsZero())
			require.Equal(t, time.UTC, e.Created.Location())
			require.True(t, models.ValidCurrency(e.Total.Currency), e.Total.Currency)
			for _, m := range []models.Money{e.Total, e.UserFees, e.MerchantFees} {
				require.GreaterOrEqual(t, m.Cents, int64(0))
				require.Equal(t, e.Total.Currency, m.Currency)
			}
		case *inbox.KYCEvent:
			require.NoError(t, err)
			require.NotNil(t, e)
			require.True(t, strings.HasPrefix(e.Type, "KYC "), e.Type)
			require.Contains(t, []models.VerificationStatus{models.VerificationPending, models.VerificationApproved, models.VerificationRejected}, e.Status)
			require.NotEmpty(t, e.UserID)
			require.NotEmpty(t, e.Wallet)
			require.False(t, e.Created.IsZero())
			// Every field is stored in a TEXT column: PostgreSQL refuses
			// invalid UTF-8.
			for _, s := range []string{e.UserID, e.Wallet, e.Blockchain, e.EmailMasked} {
				require.True(t, utf8.ValidString(s), "not UTF-8: %q", s)
			}
			if e.EmailMasked != "" {
				require.Contains(t, e.EmailMasked, "***")
			}
		default:
			t.Fatalf("Decode returned %T", v)
		}

		key, eventType := webhook.DedupKey(body)
		key2, eventType2 := webhook.DedupKey(body)
		require.Equal(t, key, key2)
		require.Equal(t, eventType, eventType2)
		hexPart, ok := strings.CutPrefix(key, "ev:")
		if ok {
			require.True(t, inbox.Tracked(eventType), "event key for untracked %q", eventType)
		} else {
			hexPart, ok = strings.CutPrefix(key, "raw:")
			require.True(t, ok, "key %q", key)
		}
		require.Regexp(t, `^[0-9a-f]{64}$`, hexPart)
		if err == nil && eventType != "" {
			switch e := v.(type) {
			case *inbox.WithdrawEvent:
				require.Equal(t, e.Type, eventType)
			case *inbox.KYCEvent:
				require.Equal(t, e.Type, eventType)
			}
		}
	})
}

// replaced is a fixture with old replaced by new once: for bodies a map
// cannot say (duplicate keys).
func replaced(name, old, new string) bodyFunc {
	return func(t testing.TB) []byte {
		b := readFixture(t, name)
		require.Contains(t, string(b), old)
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 6, 2, 14, 3, 12, 6_000_000, time.UTC)
	usd := func(c int64) models.Money { return models.Money{Cents: c, Currency: "USD"} }
	// pending is the pending fixture decoded, changed by edit (if not nil).
	pending := func(edit func(e *inbox.WithdrawEvent)) *inbox.WithdrawEvent {
		e := &inbox.WithdrawEvent{
			Type: "Withdraw Pending", Status: models.StatusPending, Created: created,
			Signature:      "65ATtSdqmriSDHESTmNughATBwy7m83gFnp86oyZk21Cs6RUhwHHbbKSdfaXu9Rx55yPXTmbPbE5c7aWGo3ELgf7",
			UserID:         "u-1001",
			IdempotencyKey: "9b1c6a0e-2f4d-4c8a-9e17-5d3b2a1c0f11",
			Total:          usd(25000), UserFees: usd(0), MerchantFees: usd(150),
		}
		if edit != nil {
			edit(e)
		}
		return e
	}
	// kycCreated is the KYC fixture decoded, with its email masked as masked.
	kycCreated := func(masked string) *inbox.KYCEvent {
		return &inbox.KYCEvent{
			Type: "KYC Created", Status: models.VerificationPending, Created: time.Date(2025, 6, 1, 8, 15, 30, 221_000_000, time.UTC),
			UserID: "u-1002", Wallet: "acme-payoutsʬu-1002", Blockchain: "user", EmailMasked: masked,
		}
	}
	tests := []struct {
		name string
		body bodyFunc
		want any   // *inbox.WithdrawEvent or *inbox.KYCEvent
		err  error // ErrUntracked or ErrUnprocessable
	}{
		{name: "withdraw pending fixture", body: fixture(pendingFx), want: pending(nil)},
		{name: "fees sum every field present", body: edited(pendingFx, func(_, data map[string]any) {
			data["userFees"] = map[string]any{"cents": 1, "currency": "USD"}
			data["userGasFees"] = map[string]any{"cents": 2, "currency": "USD"}
			data["userCustomFees"] = map[string]any{"cents": 4, "currency": "USD"}
			data["userSwapFees"] = map[string]any{"cents": 8, "currency": "USD"}
			data["merchantGasFees"] = map[string]any{"cents": 16, "currency": "USD"}
			data["merchantSwapFees"] = map[string]any{"cents": 32, "currency": "USD"}
		}), want: pending(func(e *inbox.WithdrawEvent) { e.UserFees, e.MerchantFees = usd(15), usd(198) })},
		{name: "user id from the wallet when userId is missing", body: edited(pendingFx, func(_, data map[string]any) {
			delete(data, "userId")
			data["wallet"] = "acme-payoutsʬu-2002"
		}), want: pending(func(e *inbox.WithdrawEvent) { e.UserID = "u-2002" })},
		{name: "KYC fixture", body: fixture(kycFx), want: kycCreated("b***@example.com")},
		{name: "KYC email with a non-ASCII first letter", body: edited(kycFx, func(_, data map[string]any) { data["email"] = "élodie@example.com" }), want: kycCreated("é***@example.com")},
		{name: "untracked type", body: edited(pendingFx, func(ev, _ map[string]any) { ev["eventType"] = "Wire Failure" }), err: inbox.ErrUntracked},
		{name: "negative cents", body: edited(pendingFx, setTotal(json.Number("-1"), "USD")), err: inbox.ErrUnprocessable},
		{name: "cents as a JSON string", body: edited(pendingFx, setTotal("25000", "USD")), err: inbox.ErrUnprocessable},
		{name: "KYC without wallet", body: edited(kycFx, func(_, data map[string]any) { delete(data, "wallet") }), err: inbox.ErrUnprocessable},
		{name: "not an object", body: rawBody("[]"), err: inbox.ErrUnprocessable},
		// A signed webhook once stored total.cents = 9223372036854775807:
		// every sum over payouts then overflowed.
		{name: "absurd amount", body: edited(pendingFx, setTotal(json.Number("9223372036854775807"), "USD")), err: inbox.ErrUnprocessable},
		{name: "amount above the cap initiation uses", body: edited(pendingFx, setTotal(json.Number(strconv.FormatInt(models.MaxCents+1, 10)), "USD")), err: inbox.ErrUnprocessable},
		{name: "amount at the cap", body: edited(pendingFx, setTotal(json.Number(strconv.FormatInt(models.MaxCents, 10)), "USD")), want: pending(func(e *inbox.WithdrawEvent) { e.Total = usd(models.MaxCents) })},
		{name: "fees adding up past the cap", body: edited(pendingFx, func(_, data map[string]any) {
			data["userFees"] = map[string]any{"cents": models.MaxCents, "currency": "USD"}
			data["userGasFees"] = map[string]any{"cents": 1, "currency": "USD"}
		}), err: inbox.ErrUnprocessable},
		// encoding/json keeps the last of duplicate keys, case-insensitively:
		// this body would have been applied as a success.
		{name: "a second eventType in another case", body: replaced(pendingFx,
			`"eventType": "Withdraw Pending",`, `"eventType": "Withdraw Pending", "EVENTTYPE": "Withdraw Success",`), err: inbox.ErrUnprocessable},
		{name: "eventType twice", body: replaced(pendingFx,
			`"eventType": "Withdraw Pending",`, `"eventType": "Withdraw Pending", "eventType": "Withdraw Success",`), err: inbox.ErrUnprocessable},
		{name: "eventType again, written with an escape", body: replaced(pendingFx,
			`"eventType": "Withdraw Pending",`, `"eventType": "Withdraw Pending", "\u0065ventType": "Withdraw Success",`), err: inbox.ErrUnprocessable},
		{name: "an escaped key that is no other", body: replaced(pendingFx, `"category":`, `"n\u006fte": 1, "category":`), want: pending(nil)},
		{name: "a key differing only by a folding letter", body: replaced(pendingFx, `"signature":`, `"ſignature":`), err: inbox.ErrUnprocessable},
		{name: "keys payoutd does not read are not checked", body: replaced(pendingFx, `"category":`, `"meta": {"Total": 3, "extra": [{"id": 1, "ID": 2}]}, "category":`), want: pending(nil)},
		{name: "an untracked event is ignored whatever its keys", body: replaced(pendingFx,
			`"eventType": "Withdraw Pending",`, `"eventType": "Settled", "EVENTTYPE": "Settled",`), err: inbox.ErrUntracked},
		{name: "a key in another case alone", body: replaced(pendingFx, `"eventType":`, `"EventType":`), err: inbox.ErrUnprocessable},
		{name: "a data key twice", body: replaced(pendingFx, `"signature":`, `"signature": "other", "signature":`), err: inbox.ErrUnprocessable},
		{name: "a nested key twice", body: replaced(pendingFx, `"cents": 150,`, `"cents": 150, "Cents": 99999,`), err: inbox.ErrUnprocessable},
		{name: "an unknown key twice", body: replaced(pendingFx, `"category":`, `"note": 1, "NOTE": 2, "category":`), err: inbox.ErrUnprocessable},
		// The category is part of what an event is: one event under two
		// categories would have been stored and applied twice.
		{name: "category contradicting the type", body: edited(pendingFx, func(ev, _ map[string]any) { ev["category"] = "KYC" }), err: inbox.ErrUnprocessable},
		{name: "category missing", body: edited(pendingFx, func(ev, _ map[string]any) { delete(ev, "category") }), err: inbox.ErrUnprocessable},
		{name: "KYC under the Withdraw category", body: edited(kycFx, func(ev, _ map[string]any) { ev["category"] = "Withdraw" }), err: inbox.ErrUnprocessable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := inbox.Decode(tc.body(t))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				// Not a nil *WithdrawEvent in a non-nil interface: a caller
				// testing got != nil must not see an event.
				require.True(t, got == nil, "Decode returned %#v with its error", got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
