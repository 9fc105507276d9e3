package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/payoutd/payoutd/internal/principal"
)

// envValue is a configuration type that reads its own environment form
// (applyEnv uses it before the built-in kinds).
type envValue interface {
	setEnv(raw string) error
}

// StringList is a list key; its environment form is comma-separated.
type StringList []string

func (l *StringList) setEnv(raw string) error {
	var out StringList
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	*l = out
	return nil
}

// APIToken is one named bearer token for the API and the dashboard.
type APIToken struct {
	Name  string `yaml:"name"`
	Token Secret `yaml:"token"`
}

// APITokens is api.tokens. Its environment form is comma-separated
// name=token pairs: PAYOUTD_API_TOKENS="alice=...,ops-bot=...".
type APITokens []APIToken

func (t *APITokens) setEnv(raw string) error {
	var out APITokens
	for pair := range strings.SplitSeq(raw, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, token, ok := strings.Cut(pair, "=")
		if !ok {
			// The pair may be a bare token: never quote it.
			return fmt.Errorf("entry %d is not name=token", len(out)+1)
		}
		out = append(out, APIToken{Name: strings.TrimSpace(name), Token: Secret(strings.TrimSpace(token))})
	}
	*t = out
	return nil
}

// tokenName is what a token's name may be: it is shown on the dashboard
// and recorded with acknowledgements.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// minTokenLength keeps guessable tokens out of api.tokens.
const minTokenLength = 16

// validate names every problem with the named tokens; a token is never
// quoted, only its entry's position or name.
func (t APITokens) validate(single Secret) []error {
	var errs []error
	names := map[string]bool{}
	tokens := map[string]bool{}
	if single != "" {
		tokens[single.Value()] = true
	}
	for i, tok := range t {
		bad := func(field, format string, args ...any) {
			errs = append(errs, &configError{key: fmt.Sprintf("api.tokens[%d].%s", i, field), msg: fmt.Sprintf(format, args...)})
		}
		switch {
		case !tokenName.MatchString(tok.Name):
			// Not quoted: a pair written the wrong way round makes the
			// token the name. No '@' either: a name is logged, and an email
			// address is PII.
			bad("name", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
		case names[tok.Name]:
			bad("name", "%q is used twice", tok.Name)
		case single != "" && tok.Name == principal.APIToken:
			// It would acknowledge under the shared token's name.
			bad("name", "%q is the name api.token acts as", tok.Name)
		}
		names[tok.Name] = true
		switch v := tok.Token.Value(); {
		case len(v) < minTokenLength:
			bad("token", "must be at least %d characters", minTokenLength)
		case tokens[v]:
			bad("token", "the same token is configured twice")
		}
		tokens[tok.Token.Value()] = true
	}
	return errs
}

// checkWebhookSecret accepts a Standard Webhooks secret: "whsec_" and the
// base64 of a key of 24 to 64 bytes.
func checkWebhookSecret(s string) error {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return errors.New(`must start with "whsec_" (Standard Webhooks)`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return errors.New(`must be "whsec_" and standard base64`)
	}
	if len(key) < 24 || len(key) > 64 {
		return fmt.Errorf("the key must be 24 to 64 bytes, not %d", len(key))
	}
	return nil
}
