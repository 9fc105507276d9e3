// Package mask shows a stored webhook body to people without its secrets
// and personal data: the dashboard's event page and the events API both
// show bodies through Body.
//
// A body is read as JSON and written back indented, in its own key order,
// with numbers exactly as sent (amounts stay exact). Every string that
// holds an email address has it masked as models.MaskEmail does, and the
// value of every field whose name says secret, PII or account data (see
// Sensitive) becomes "[masked]", whatever its type. Signatures (Coinflow's
// transaction id), amounts and ids are kept: they are what an operator
// searches by.
package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/payoutd/payoutd/models"
)

// Masked replaces the value of a sensitive field.
const Masked = "[masked]"

// ErrNotJSON is returned by Body for a body that is not one JSON value.
var ErrNotJSON = errors.New("body is not JSON")

// emailRE finds email addresses inside any string value.
var emailRE = regexp.MustCompile(`[^\s@"<>()\[\],;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)

// sensitiveParts mask a field whose name contains one of them; names are
// compared lowercased with everything but letters and digits removed.
// Matching is deliberately broad: a masked harmless field costs nothing, a
// shown account number is a breach.
var sensitiveParts = []string{
	"ssn", "dob", "birth", "account", "card", "pix", "token", "iban", "routing", "secret", "password", "passwd",
	"passphrase", "cvv", "cvc", "swift", "taxid", "passport", "phone", "address", "street", "postal", "session",
	"credential",
}

// sensitiveSuffixes mask a field whose name ends so: apiKey, firstName,
// zip, bic.
var sensitiveSuffixes = []string{"key", "number", "name", "zip", "bic", "pin", "tin", "pan"}

// keptNames are ids that look like a secret but are not one: what an
// operator searches by.
var keptNames = map[string]bool{"idempotencykey": true, "signature": true, "eventtype": true}

// Sensitive reports whether a field of this name has its value masked.
func Sensitive(name string) bool {
	n := normalize(name)
	if keptNames[n] {
		return false
	}
	for _, p := range sensitiveParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	for _, s := range sensitiveSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

func normalize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// String masks every email address in s.
func String(s string) string {
	return emailRE.ReplaceAllStringFunc(s, models.MaskEmail)
}

// NotJSON is what Body shows for a body of n bytes that is not JSON.
func NotJSON(n int) string { return fmt.Sprintf("[not JSON, %d bytes]", n) }

// Body returns body masked and indented. For a body that is not one JSON
// value it returns NotJSON(len(body)) and ErrNotJSON: nothing of it is
// shown.
func Body(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	if err := value(dec, &out, "", false); err != nil {
		return NotJSON(len(body)), ErrNotJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return NotJSON(len(body)), ErrNotJSON
	}
	return out.String(), nil
}

// value copies the next JSON value from dec to out, masked (all of it
// when hide), at indentation indent.
func value(dec *json.Decoder, out *bytes.Buffer, indent string, hide bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if hide {
			if err := skip(dec); err != nil {
				return err
			}
			return writeString(out, Masked)
		}
		return container(dec, out, indent, t)
	case string:
		if hide {
			return writeString(out, Masked)
		}
		return writeString(out, String(t))
	case json.Number:
		if hide {
			return writeString(out, Masked)
		}
		out.WriteString(t.String())
	case bool:
		if hide {
			return writeString(out, Masked)
		}
		fmt.Fprint(out, t)
	case nil:
		out.WriteString("null") // nothing to hide
	}
	return nil
}

// container copies an object or array whose opening delimiter was read.
func container(dec *json.Decoder, out *bytes.Buffer, indent string, open json.Delim) error {
	inner := indent + "  "
	closing := "]"
	if open == '{' {
		closing = "}"
	}
	out.WriteString(string(open))
	n := 0
	for dec.More() {
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		out.WriteString("\n" + inner)
		hide := false
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name, ok := tok.(string)
			if !ok {
				return ErrNotJSON
			}
			if err := writeString(out, String(name)); err != nil {
				return err
			}
			out.WriteString(": ")
			hide = Sensitive(name)
		}
		if err := value(dec, out, inner, hide); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return err
	}
	if n > 0 {
		out.WriteString("\n" + indent)
	}
	out.WriteString(closing)
	return nil
}

// skip reads past the rest of a container whose opening was read.
func skip(dec *json.Decoder) error {
	depth := 1
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func writeString(out *bytes.Buffer, s string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	out.Write(bytes.TrimRight(b.Bytes(), "\n"))
	return nil
}

var quoted = regexp.MustCompile(`"[^"]*"|'[^']*'`)

// ErrorText makes sure a stored error, payoutd's own text, shows nothing
// of the body: quoted values (a database error may quote one) are dropped,
// as is any string or number of the body that appears in it.
func ErrorText(e *string, body []byte) *string {
	if e == nil {
		return nil
	}
	s := quoted.ReplaceAllString(*e, `"…"`)
	s = String(s)
	if len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			for _, leaf := range leaves(v, "", nil) {
				if len(leaf) >= 4 {
					s = strings.ReplaceAll(s, leaf, "…")
				}
			}
		}
	}
	return &s
}

// leaves appends the string and number values in v (not its keys), but for
// the event's type and category, which errors name and which are no secret.
func leaves(v any, key string, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			out = leaves(val, k, out)
		}
	case []any:
		for _, val := range x {
			out = leaves(val, key, out)
		}
	case string:
		if key == "eventType" || key == "category" {
			return out
		}
		out = append(out, x)
	case json.Number:
		out = append(out, x.String())
	}
	return out
}
