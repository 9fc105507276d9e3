package contract

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const base = "http://coinflow.test/api"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	spec, err := SpecPath()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(spec), "fixtures", "api", name))
	require.NoError(t, err)
	return b
}

// TestValidatorAcceptsTheFixturesAndRejectsBrokenBodies proves the harness
// can fail: the published fixtures pass, and a body with a wrong type does
// not.
func TestValidatorAcceptsTheFixturesAndRejectsBrokenBodies(t *testing.T) {
	v, err := New(base)
	require.NoError(t, err)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name, method, path, reqFixture, respFixture string
		status                                      int
	}{
		{"list withdraws", "GET", "/merchant/withdraws?page=1&limit=3", "", "merchant-withdraws.json", 200},
		{"get withdraw", "GET", "/merchant/withdraws/65ATtSdq", "", "merchant-withdraw.json", 200},
		{"balance", "GET", "/merchant/withdraws/payout/balance", "", "payout-balance.json", 200},
		{"quote", "POST", "/merchant/withdraws/payout/delegated/quote", "delegated-quote.request.json", "delegated-quote.json", 200},
		{"payout", "POST", "/merchant/withdraws/payout/delegated", "delegated-payout.request.json", "delegated-payout.json", 200},
		{"payout downgraded", "POST", "/merchant/withdraws/payout/delegated", "delegated-payout-downgraded.request.json", "delegated-payout-downgraded.json", 200},
		{"payout 451", "POST", "/merchant/withdraws/payout/delegated", "delegated-payout.request.json", "delegated-payout-451.json", 451},
		{"withdrawers", "GET", "/merchant/withdrawers", "", "merchant-withdrawers.json", 200},
		{"webhooks", "GET", "/merchant/webhooks?page=1&limit=10", "", "merchant-webhooks.json", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reqBody []byte
			if tc.reqFixture != "" {
				reqBody = fixture(t, tc.reqFixture)
			}
			req, err := http.NewRequest(tc.method, base+tc.path, bytes.NewReader(reqBody))
			require.NoError(t, err)
			req.Header.Set("Authorization", "key")
			if reqBody != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			ex := v.Check(req, reqBody, tc.status, jsonHeader, fixture(t, tc.respFixture))
			require.NoError(t, ex.RequestErr)
			require.NoError(t, ex.ResponseErr)

			broken := bytes.Replace(fixture(t, tc.respFixture), []byte(`"cents": `), []byte(`"cents": "x`), 1)
			if !bytes.Equal(broken, fixture(t, tc.respFixture)) {
				ex = v.Check(req, reqBody, tc.status, jsonHeader, broken)
				require.Error(t, ex.ResponseErr, "a string where cents must be an integer is refused")
			}
		})
	}
}

// TestGetWithdrawerContradiction shows the known contradiction by name: the
// spec requires x-coinflow-auth-wallet on GET /withdraw; the docs use the
// user id. The check reports it and nothing else.
func TestGetWithdrawerContradiction(t *testing.T) {
	v, err := New(base)
	require.NoError(t, err)
	req, err := http.NewRequest("GET", base+"/withdraw", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "key")
	req.Header.Set("x-coinflow-auth-user-id", "u-1001")
	ex := v.Check(req, nil, 200, http.Header{"Content-Type": {"application/json"}}, fixture(t, "get-withdrawer.json"))
	require.NoError(t, ex.RequestErr)
	require.NoError(t, ex.ResponseErr)
	require.Contains(t, ex.Known, "withdraw-auth-header")
	t.Logf("known contradiction %q: %s", KnownContradictions[0].Name, KnownContradictions[0].Why)
}
