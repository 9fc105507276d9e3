package dashboard

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A destination token is never shown whole, however short.
func TestTokenHintNeverShowsTheToken(t *testing.T) {
	for token, want := range map[string]string{
		"":                     "…",
		"a":                    "…",
		"ab":                   "a…",
		"abcdefgh":             "abcd…",
		"pix-tok-3c1d9e0f7a2b": "pix-to…",
		"ñandú-çà-tok":         "ñandú-…",
	} {
		got := tokenHint(token)
		require.Equal(t, want, got, token)
		if token != "" {
			require.False(t, strings.Contains(got, token), token)
		}
	}
}
