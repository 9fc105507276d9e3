package coinflowtest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

var jwtShape = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

func TestSessionKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		user   string
		status int
	}{
		{"approved withdrawer", "u-1", 200},
		{"withdrawer with verification outstanding", "u-pending", 200},
		{"unknown user", "u-x", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{noHook: true})
			b.addUser(t, "u-1")
			_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-pending", Verification: "pending"})
			require.NoError(t, err)
			hdr := []string{"x-coinflow-auth-user-id", tc.user}
			if tc.status != 200 {
				r := b.call(t, http.MethodGet, "/auth/session-key", nil, hdr...)
				require.Equal(t, tc.status, r.Status)
				require.Equal(t, "Withdrawer not found", r.msg(t))
				return
			}
			var got struct {
				Key string `json:"key"`
			}
			b.specCall(t, http.StatusOK, http.MethodGet, "/auth/session-key", nil, hdr...).decode(t, &got)
			require.Regexp(t, jwtShape, got.Key)
			parts := strings.Split(got.Key, ".")
			var header struct{ Alg, Typ string }
			var claims struct {
				Sub string `json:"sub"`
				Iat int64  `json:"iat"`
				Exp int64  `json:"exp"`
			}
			for i, v := range []any{&header, &claims} {
				raw, err := base64.RawURLEncoding.DecodeString(parts[i])
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(raw, v))
			}
			require.Equal(t, "JWT", header.Typ)
			require.Equal(t, tc.user, claims.Sub)
			issued := b.srv.Now()
			require.Equal(t, issued.Unix(), claims.Iat, "issued on the emulator clock")
			require.Equal(t, issued.Add(24*time.Hour).Unix(), claims.Exp)

			user, ok := b.srv.SessionKeyValid(got.Key)
			require.True(t, ok)
			require.Equal(t, tc.user, user)
			// A second key is another key, valid too.
			var second struct {
				Key string `json:"key"`
			}
			b.call(t, http.MethodGet, "/auth/session-key", nil, hdr...).decode(t, &second)
			require.NotEqual(t, got.Key, second.Key)
			_, ok = b.srv.SessionKeyValid(second.Key)
			require.True(t, ok)

			// Tampered or invented keys are not valid.
			_, ok = b.srv.SessionKeyValid(parts[0] + "." + parts[1] + ".AAAA")
			require.False(t, ok)
			_, ok = b.srv.SessionKeyValid("not-a-key")
			require.False(t, ok)

			b.srv.Advance(24*time.Hour - time.Second)
			_, ok = b.srv.SessionKeyValid(got.Key)
			require.True(t, ok, "valid until 24h after issue")
			b.srv.Advance(time.Second)
			_, ok = b.srv.SessionKeyValid(got.Key)
			require.False(t, ok, "expired 24h after issue")
			require.Equal(t, 2, b.srv.Calls(coinflowtest.OpSessionKey))
		})
	}
}

func TestSessionKeyNeedsCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	require.Equal(t, http.StatusUnauthorized, b.call(t, http.MethodGet, "/auth/session-key", nil).Status, "no user header")
	require.Equal(t, http.StatusUnauthorized, b.callKey(t, "wrong", http.MethodGet, "/auth/session-key", nil, "x-coinflow-auth-user-id", "u-1").Status)
}
