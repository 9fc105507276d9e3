package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigNamedTokensFromFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("api:\n  tokens:\n    - name: alice\n      token: alice-token-0123456789\n"), 0o600))
	cfg, err := loadConfig(path, true, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, APITokens{{Name: "alice", Token: "alice-token-0123456789"}}, cfg.API.Tokens)

	cfg, err = loadConfig(path, true, getenvFrom(map[string]string{
		"PAYOUTD_API_TOKENS":      "ops-bot=bot-token-0123456789, carol=carol-token-0123456",
		"PAYOUTD_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
	}))
	require.NoError(t, err)
	require.Equal(t, APITokens{{Name: "ops-bot", Token: "bot-token-0123456789"}, {Name: "carol", Token: "carol-token-0123456"}},
		cfg.API.Tokens, "the environment replaces the file's list")
	require.Equal(t, StringList{"10.0.0.0/8", "192.168.1.1"}, cfg.TrustedProxies)
}

func TestConfigRejectsBadAccessSettings(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"pair without name":  {map[string]string{"PAYOUTD_API_TOKENS": "just-a-token-0123456789"}, "PAYOUTD_API_TOKENS: api.tokens: entry 1 is not name=token"},
		"short token":        {map[string]string{"PAYOUTD_API_TOKENS": "alice=short"}, "api.tokens[0].token: must be at least 16"},
		"duplicate name":     {map[string]string{"PAYOUTD_API_TOKENS": "a=aaaaaaaaaaaaaaaa1,a=bbbbbbbbbbbbbbbb2"}, `api.tokens[1].name: "a" is used twice`},
		"name of api.token":  {map[string]string{"PAYOUTD_API_TOKEN": "x", "PAYOUTD_API_TOKENS": "api=aaaaaaaaaaaaaaaa1"}, `api.tokens[0].name: "api" is the name api.token acts as`},
		"reused token":       {map[string]string{"PAYOUTD_API_TOKEN": "same-token-0123456789", "PAYOUTD_API_TOKENS": "a=same-token-0123456789"}, "api.tokens[0].token: the same token is configured twice"},
		"bad name":           {map[string]string{"PAYOUTD_API_TOKENS": "a b=aaaaaaaaaaaaaaaa1"}, `api.tokens[0].name: must be 1-64 letters`},
		"email as name":      {map[string]string{"PAYOUTD_API_TOKENS": "ana@example.com=aaaaaaaaaaaaaaaa1"}, `api.tokens[0].name: must be 1-64 letters`},
		"pair reversed":      {map[string]string{"PAYOUTD_API_TOKENS": "s3cr3t+t0ken/abcdefgh=alice"}, `api.tokens[0].name: must be 1-64 letters`},
		"bad proxy":          {map[string]string{"PAYOUTD_TRUSTED_PROXIES": "proxy.local"}, `PAYOUTD_TRUSTED_PROXIES: trusted_proxies[0]: "proxy.local"`},
		"bad secure cookies": {map[string]string{"PAYOUTD_DASHBOARD_SECURE_COOKIES": "sometimes"}, "dashboard.secure_cookies"},
		"no login limit":     {map[string]string{"PAYOUTD_RATE_LIMIT_LOGIN_PER_MINUTE": "0"}, "rate_limit.login_per_minute"},
		"secret prefix":      {map[string]string{"PAYOUTD_ALERTS_WEBHOOK_SECRET": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}, `alerts.webhook_secret: must start with "whsec_"`},
		"secret too short":   {map[string]string{"PAYOUTD_ALERTS_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "alerts.webhook_secret: the key must be 24 to 64 bytes, not 5"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(filepath.Join(dir, "missing.yaml"), false, getenvFrom(tc.env))
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "s3cr3t", "a token taken for a name is never quoted")
			for _, v := range tc.env {
				if len(v) >= 16 && name != "bad proxy" {
					require.NotContains(t, err.Error(), v, "a token or secret is never quoted")
				}
			}
		})
	}
	_, err := loadConfig(filepath.Join(dir, "missing.yaml"), false, getenvFrom(map[string]string{
		"PAYOUTD_ALERTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}))
	require.NoError(t, err, "a Standard Webhooks secret of 24 bytes")
}
