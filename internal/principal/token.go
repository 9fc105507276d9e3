package principal

import (
	"crypto/sha256"
	"crypto/subtle"
)

// APIToken is the name the single api.token authenticates as; each of
// api.tokens has its own.
const APIToken = "api"

// Token is one configured bearer token and the name it authenticates as.
type Token struct {
	Name   string
	Secret []byte
}

// Tokens are the bearer tokens the API and the dashboard accept.
type Tokens struct {
	tokens []hashed
}

type hashed struct {
	Token
	sum [sha256.Size]byte
}

// NewTokens keeps the tokens that have a secret; an empty one is not
// configured and matches nothing.
func NewTokens(ts []Token) *Tokens {
	out := &Tokens{}
	for _, t := range ts {
		if len(t.Secret) > 0 {
			out.tokens = append(out.tokens, hashed{Token: t, sum: sha256.Sum256(t.Secret)})
		}
	}
	return out
}

// Configured reports whether any token is set.
func (ts *Tokens) Configured() bool { return len(ts.tokens) > 0 }

// Match returns the token whose secret is got. It hashes got (so that not
// even its length leaks) and compares the hash with every token's in
// constant time, with no early exit, so that the time taken does not say
// which token matched or how many were tried.
func (ts *Tokens) Match(got string) (Token, bool) {
	sum := sha256.Sum256([]byte(got))
	found := -1
	for i := range ts.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], ts.tokens[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Token{}, false
	}
	return ts.tokens[found].Token, true
}
