package coinflow

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// decodeBoth decodes data with the client's page decoder and with
// encoding/json, requires the same outcome, and reports whether
// listDecoder read it itself rather than declining.
func decodeBoth(t *testing.T, data []byte) (ws []Withdraw, fast bool) {
	t.Helper()
	var want []Withdraw
	wantErr := json.Unmarshal(data, &want)
	var got withdrawList
	gotErr := got.decodeBody(data)
	if wantErr != nil {
		require.EqualError(t, gotErr, wantErr.Error())
	} else {
		require.NoError(t, gotErr)
		require.Equal(t, want, []Withdraw(got))
	}
	_, fast = (&listDecoder{data: data}).list()
	if fast {
		require.NoError(t, wantErr, "listDecoder accepted what encoding/json rejects")
	}
	return got, fast
}

// emulatorPage is page 2 of the emulator's list of 300 generated
// withdraws, 100 of them, as it sends it.
func emulatorPage(t *testing.T) []byte {
	t.Helper()
	srv := coinflowtest.NewServer(coinflowtest.Options{})
	t.Cleanup(srv.Close)
	end := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	srv.SeedSynthetic(300, func(i int) coinflowtest.Withdraw {
		w := coinflowtest.Withdraw{
			IdempotencyKey: fmt.Sprintf("key-%04d", i), UserID: fmt.Sprintf("user-%d", i%7),
			CreatedAt: end.Add(time.Duration(i-300) * time.Minute), Status: coinflowtest.StatusCompleted,
		}
		if i%10 == 0 {
			w.Status, w.ReturnStatus, w.ReturnedAt = coinflowtest.StatusFailed, coinflowtest.ReturnCompleted, end
		}
		return w
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/merchant/withdraws?page=2&limit=100", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return data
}

func TestListDecoderReadsCoinflowsPagesAsEncodingJSON(t *testing.T) {
	t.Parallel()
	ws, fast := decodeBoth(t, readFixture(t, "merchant-withdraws.json"))
	require.True(t, fast, "the recorded page is read without encoding/json")
	require.Len(t, ws, 3)

	ws, fast = decodeBoth(t, emulatorPage(t))
	require.True(t, fast, "the emulator's page is read without encoding/json")
	require.Len(t, ws, 100)
	require.Equal(t, "key-0100", ws[0].IdempotencyKey)
	require.NotNil(t, ws[0].ReturnedAt)
	require.Nil(t, ws[1].ReturnedAt)
}

// withdrawJSON is a withdraw record with extra placed among its fields.
func withdrawJSON(extra string) string {
	return `{"transaction":"tx-1","createdAt":"2025-06-01T10:00:00.000Z","amount":{"cents":2500,"currency":"USD"},` +
		`"speed":"asap","merchant":"m-1","withdrawer":"w-1",` + extra + `"status":"completed"}`
}

func TestListDecoderKeepsEncodingJSONSemantics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		fast       bool // listDecoder reads it itself
		check      func(t *testing.T, ws []Withdraw)
	}{
		{name: "empty", body: ` [ ] `, fast: true},
		{name: "unknown fields of every shape", fast: true,
			body: `[` + withdrawJSON(`"zz":{"a":[1,-2.5e+3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"],"b":{}},"yy":[],"xx":"ünïcödé",`) + `]`},
		{name: "nulls", fast: true,
			body: `[` + withdrawJSON(`"userId":null,"expectedDeliveryDate":null,"usdToForeignExchangeRate":null,"isFirstParty":null,"manuallyFailedBy":null,"userPaidFees":null,"updatedAt":null,`) + `]`},
		{name: "a null reference keeps its text", fast: true,
			body: `[{"merchant":null,"withdrawer":{"_id":"w-9","email":"x@example.com"}}]`,
			check: func(t *testing.T, ws []Withdraw) {
				require.Equal(t, "", ws[0].Merchant.ID)
				require.Equal(t, json.RawMessage(`null`), ws[0].Merchant.Raw)
				require.Equal(t, "w-9", ws[0].Withdrawer.ID)
			}},
		{name: "the largest cents and an exact rate", fast: true,
			body: `[` + withdrawJSON(`"usdToForeignExchangeRate":1.234567890123456789012345678901234567890e-1,"userPaidFees":{"fees":{"cents":9223372036854775807,"currency":"BRL"},"customFees":{"cents":-9223372036854775808}},`) + `]`,
			check: func(t *testing.T, ws []Withdraw) {
				require.Equal(t, json.Number("1.234567890123456789012345678901234567890e-1"), ws[0].UsdToForeignExchangeRate)
				require.Equal(t, int64(9223372036854775807), ws[0].UserPaidFees.Fees.Cents)
				require.Equal(t, int64(-9223372036854775808), ws[0].UserPaidFees.CustomFees.Cents)
			}},
		{name: "times with offsets", fast: true,
			body: `[{"createdAt":"2025-06-01T10:00:00+02:00","returnedAt":"2025-06-02T00:00:00.123456789Z"}]`},
		{name: "every fee", fast: true,
			body: `[{"merchantPaidFees":{"swapFees":{"cents":1,"currency":"USD"},"gasFees":{"cents":2,"currency":"USD"},"fees":{"cents":3,"currency":"USD"},"merchantFundedAmount":{"cents":4,"currency":"USD"},"settledInline":true}}]`},

		// Declined: encoding/json reads them, to its own result.
		{name: "an escape in a field", body: `[` + withdrawJSON(`"detailMessage":"R01 \"NSF\"",`) + `]`},
		{name: "invalid UTF-8 in a field", body: "[" + withdrawJSON("\"userId\":\"u-\xff\",") + "]",
			check: func(t *testing.T, ws []Withdraw) { require.Equal(t, "u-\uFFFD", ws[0].UserID) }},
		{name: "a key differing in case", body: `[` + withdrawJSON(`"Status":"failed","userID":"u-1",`) + `]`,
			check: func(t *testing.T, ws []Withdraw) { require.Equal(t, "u-1", ws[0].UserID) }},
		{name: "a non-ASCII key", body: `[` + withdrawJSON(`"ſpeed":"card",`) + `]`},
		{name: "a field twice", body: `[{"amount":{"cents":1},"amount":{"currency":"EUR"}}]`,
			check: func(t *testing.T, ws []Withdraw) { require.Equal(t, CurrencyCents{1, "EUR"}, ws[0].Amount) }},
		{name: "a rate as a string", body: `[{"usdToForeignExchangeRate":"5.25"}]`},
		{name: "a manual edit", body: `[{"manuallyFailedBy":{"editor":"ops","editorType":"merchant"}}]`},
		{name: "deep nesting", body: `[{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}]`},
		{name: "null", body: `null`},
		{name: "a null element", body: `[null]`},

		// Declined, and encoding/json's error is the answer.
		{name: "cents with a fraction", body: `[{"amount":{"cents":1.5}}]`},
		{name: "cents with an exponent", body: `[{"amount":{"cents":1e2}}]`},
		{name: "cents past int64", body: `[{"amount":{"cents":9223372036854775808}}]`},
		{name: "cents as a string", body: `[{"amount":{"cents":"100"}}]`},
		{name: "a number for a string", body: `[{"status":5}]`},
		{name: "a bad time", body: `[{"createdAt":"yesterday"}]`},
		{name: "a number for a reference", body: `[{"merchant":7}]`},
		{name: "data after the array", body: `[] x`},
		{name: "an unterminated array", body: `[` + withdrawJSON(``)},
		{name: "a bad escape in an unknown field", body: `[{"x":"\q"}]`},
		{name: "a control character in a string", body: "[{\"x\":\"a\tb\"}]"},
		{name: "a leading zero", body: `[{"x":01}]`},
		{name: "a bare minus", body: `[{"x":-}]`},
		{name: "a trailing comma", body: `[{"x":1,}]`},
		{name: "a misspelt literal", body: `[{"x":nul}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws, fast := decodeBoth(t, []byte(tc.body))
			require.Equal(t, tc.fast, fast, "read by listDecoder")
			if tc.check != nil {
				tc.check(t, ws)
			}
		})
	}
}

// FuzzListDecoder holds listDecoder to encoding/json on any input: when it
// accepts one, encoding/json accepts it too, to the same withdraws.
func FuzzListDecoder(f *testing.F) {
	f.Add([]byte(`[` + withdrawJSON(`"zz":{"a":[1,-2.5e+3,true,null,"\u00e9"]},"userPaidFees":{"fees":{"cents":-5}},"isFirstParty":false,`) + `]`))
	f.Add([]byte(`[{"merchant":{"id":"m"},"withdrawer":null,"returnedAt":"2025-06-02T00:00:00Z","expectedDeliveryDate":null}]`))
	f.Add([]byte(`[{"usdToForeignExchangeRate":0.0001e9,"amount":{"cents":0,"currency":""}},{}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := (&listDecoder{data: data}).list()
		if !ok {
			return
		}
		var want []Withdraw
		require.NoError(t, json.Unmarshal(data, &want), "listDecoder accepted what encoding/json rejects")
		require.Equal(t, want, got)
	})
}

// TestListDecoderKnowsEveryField: a field added to Withdraw or to the
// types it holds must be taught to listDecoder, which would otherwise
// skip it as unknown.
func TestListDecoderKnowsEveryField(t *testing.T) {
	t.Parallel()
	names := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
		return out
	}
	require.Equal(t, names(Withdraw{}), withdrawFields[:])
	require.Equal(t, names(CurrencyCents{}), centsFields)
	require.Equal(t, names(UserPaidFees{}), userFeeFields)
	require.Equal(t, names(MerchantPaidFees{}), merchantFeeFields)
}

// TestListDecoderAllocations: a page of 100 withdraws costs at most six
// allocations a withdraw (encoding/json: about twenty-five).
func TestListDecoderAllocations(t *testing.T) {
	data := emulatorPage(t)
	allocs := testing.AllocsPerRun(20, func() {
		ws := make(withdrawList, 0, 100)
		if err := ws.decodeBody(data); err != nil || len(ws) != 100 {
			t.Fatalf("decode: %v, %d withdraws", err, len(ws))
		}
	})
	t.Logf("%.0f allocations for 100 withdraws", allocs)
	require.LessOrEqual(t, allocs, 600.0)
}
