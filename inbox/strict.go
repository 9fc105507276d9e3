package inbox

import (
	"bytes"
	"encoding/json"
	"strings"
)

// knownKeys are the keys payoutd reads from a webhook body, by their lower
// case: a key that matches one of them only when case is ignored would be
// read by encoding/json as that key, so it is refused instead.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"eventType", "category", "created", "data",
		"wallet", "blockchain", "signature", "email", "currency", "merchantId", "userId", "idempotencyKey",
		"userFees", "userGasFees", "userCustomFees", "userSwapFees", "merchantFees", "merchantGasFees", "merchantSwapFees",
		"total", "cents",
	} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// checkKeys walks the body's tokens and refuses an object that holds one
// key twice, or two keys that differ only in case, and any key that is a
// known key in another case. It runs after the body parsed as JSON.
func checkKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token of an object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			if len(stack) == 0 {
				return nil // the whole value was read
			}
			return unprocessable("body is not valid JSON")
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:top]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
				if len(stack) == 0 {
					return nil
				}
				continue
			}
			k, _ := tok.(string)
			lower := strings.ToLower(k)
			if stack[top].keys[lower] {
				return unprocessable("an object holds a key twice (case ignored)")
			}
			if known, ok := knownKeys[lower]; ok && known != k {
				return unprocessable("key %s is spelled in another case", known)
			}
			stack[top].keys[lower] = true
			stack[top].key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim(']'):
			stack = stack[:top]
		}
		// A value ended: an object above now expects a key.
		if len(stack) == 0 {
			return nil
		}
		if p := &stack[len(stack)-1]; p.object {
			p.key = true
		}
	}
}

// categoryOf is the category Coinflow sends with a tracked event type.
func categoryOf(eventType string) string {
	if _, ok := kycEvents[eventType]; ok {
		return "KYC"
	}
	return "Withdraw"
}
