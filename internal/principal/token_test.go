package principal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/principal"
)

func TestTokensMatchEachByName(t *testing.T) {
	ts := principal.NewTokens([]principal.Token{
		{Name: principal.APIToken, Secret: []byte("single-token")},
		{Name: "alice", Secret: []byte("alice-token-0123456789")},
		{Name: "unset"},
		{Name: "bob", Secret: []byte("bob-token-9876543210ab")},
	})
	require.True(t, ts.Configured())
	for got, want := range map[string]string{
		"single-token": principal.APIToken, "alice-token-0123456789": "alice", "bob-token-9876543210ab": "bob",
		"": "", "alice": "", "unset": "", "alice-token-012345678": "", "alice-token-0123456789\n": "", "BOB-TOKEN-9876543210AB": "",
	} {
		tok, ok := ts.Match(got)
		require.Equal(t, want != "", ok, "%q", got)
		require.Equal(t, want, tok.Name, "%q", got)
		if ok {
			require.Equal(t, got, string(tok.Secret))
		}
	}
}

func TestTokensUnset(t *testing.T) {
	for name, ts := range map[string]*principal.Tokens{
		"none":       principal.NewTokens(nil),
		"only empty": principal.NewTokens([]principal.Token{{Name: principal.APIToken}}),
	} {
		require.False(t, ts.Configured(), name)
		_, ok := ts.Match("")
		require.False(t, ok, "%s: the empty string matches no unset token", name)
	}
}
