package mask_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/mask"
)

func TestBodyMasksSecretsAndPII(t *testing.T) {
	body := `{"eventType":"KYC Success","category":"KYC","created":"2025-06-02T19:40:02.530Z",
"data":{"wallet":"acmeʬu-1001","email":"jane.doe@example.com","note":"write to bob@corp.example.org today",
"info":{"ssn":"1234","dob":"19900101","accountNumber":"000123456789","routingNumber":"021000021",
"cardToken":"tok_live_abc","pixKey":"+5511999999999","key":"k-secret","token":"t-secret","iban":"DE89370400440532013000",
"number":4111111111111111,"password":"hunter2","account_number":{"a":1},"apiKey":["x"],"webhookSecret":true},
"signature":"65ATtSdq","total":{"cents":25000,"currency":"USD"},"merchantFees":{"cents":150,"currency":"USD"},
"userId":"u-1001","idempotencyKey":"9b1c6a0e","big":12345678901234567890.10,"nothing":null,"list":[1,"c@d.io",[]],"empty":{}}}`
	got, err := mask.Body([]byte(body))
	require.NoError(t, err)
	for _, secret := range []string{
		"jane.doe@", "bob@corp", "c@d.io", "1234\"", "19900101", "000123456789", "021000021", "tok_live_abc", "+5511999999999",
		"k-secret", "t-secret", "DE89370400440532013000", "4111111111111111", "hunter2", `"a"`, `"x"`, "true",
	} {
		require.NotContains(t, got, secret)
	}
	for _, kept := range []string{
		`"email": "j***@example.com"`, `"note": "write to b***@corp.example.org today"`, `"c***@d.io"`,
		`"signature": "65ATtSdq"`, `"cents": 25000`, `"cents": 150`, `"userId": "u-1001"`, `"idempotencyKey": "9b1c6a0e"`,
		`"big": 12345678901234567890.10`, `"nothing": null`, `"empty": {}`, `[]`, `"wallet": "acmeʬu-1001"`,
		`"ssn": "[masked]"`, `"account_number": "[masked]"`, `"apiKey": "[masked]"`, `"webhookSecret": "[masked]"`,
	} {
		require.Contains(t, got, kept)
	}
	// Key order is the sender's, and the result is JSON.
	require.Less(t, strings.Index(got, "eventType"), strings.Index(got, "category"))
	require.True(t, json.Valid([]byte(got)), got)
	require.True(t, strings.HasPrefix(got, "{\n  \"eventType\""), got)
}

func TestBodyNotJSON(t *testing.T) {
	for _, b := range []string{"", "ssn=123456789&email=a@b.co", `{"a":1} trailing`, `{"a":`, `{"a":1,}`, "<xml/>"} {
		got, err := mask.Body([]byte(b))
		require.True(t, errors.Is(err, mask.ErrNotJSON), "%q", b)
		require.Equal(t, mask.NotJSON(len(b)), got)
	}
	require.Equal(t, "[not JSON, 3 bytes]", mask.NotJSON(3))
	got, err := mask.Body([]byte(`"x@y.com"`))
	require.NoError(t, err)
	require.Equal(t, `"x***@y.com"`, got)
}

func TestSensitive(t *testing.T) {
	for _, n := range []string{"ssn", "SSN", "dob", "accountNumber", "routing_number", "cardToken", "pixKey", "key", "token", "iban", "number", "password", "clientSecret"} {
		require.True(t, mask.Sensitive(n), n)
	}
	for _, n := range []string{"signature", "idempotencyKey", "userId", "merchantId", "total", "cents", "currency", "wallet", "eventType", "email"} {
		require.False(t, mask.Sensitive(n), n)
	}
}
