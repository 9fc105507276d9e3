package inbox

import (
	"bytes"
	"encoding/json"
)

// knownKeys are the keys payoutd reads from a webhook body: a key that
// matches one of them only when case is ignored would be read by
// encoding/json as that key, so it is refused instead.
var knownKeys = [][]byte{
	[]byte("eventType"), []byte("category"), []byte("created"), []byte("data"),
	[]byte("wallet"), []byte("blockchain"), []byte("signature"), []byte("email"), []byte("currency"),
	[]byte("merchantId"), []byte("userId"), []byte("idempotencyKey"),
	[]byte("userFees"), []byte("userGasFees"), []byte("userCustomFees"), []byte("userSwapFees"),
	[]byte("merchantFees"), []byte("merchantGasFees"), []byte("merchantSwapFees"),
	[]byte("total"), []byte("cents"),
}

// checkKeys refuses a body in which an object holds one key twice, or two
// keys that differ only in case, and any key that is a known key in another
// case. It is a single pass over bytes that already parsed as JSON, and
// allocates only for a key written with escapes.
func checkKeys(body []byte) error {
	type frame struct {
		object    bool // an object, not an array
		first     int  // its keys are keys[first:]
		expectKey bool
	}
	var (
		stack [8]frame // bodies nest 3 deep; deeper ones grow it
		open  = stack[:0]
		keys  = make([][]byte, 0, 32)
	)
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{':
			open = append(open, frame{object: true, first: len(keys), expectKey: true})
		case '[':
			open = append(open, frame{first: len(keys)})
		case '}', ']':
			keys = keys[:open[len(open)-1].first]
			open = open[:len(open)-1]
		case ',':
			if top := len(open) - 1; top >= 0 && open[top].object {
				open[top].expectKey = true
			}
		case '"':
			end, escaped := stringEnd(body, i)
			top := len(open) - 1
			if top >= 0 && open[top].expectKey {
				key := body[i+1 : end]
				if escaped {
					var s string
					if json.Unmarshal(body[i:end+1], &s) != nil {
						return unprocessable("body is not valid JSON")
					}
					key = []byte(s)
				}
				if err := checkKey(keys[open[top].first:], key); err != nil {
					return err
				}
				keys = append(keys, key)
				open[top].expectKey = false
			}
			i = end
		}
	}
	return nil
}

// checkKey refuses key when it repeats one of keys, case ignored, or is a
// known key spelled in another case.
func checkKey(keys [][]byte, key []byte) error {
	for _, k := range keys {
		if bytes.EqualFold(k, key) {
			return unprocessable("an object holds a key twice (case ignored)")
		}
	}
	for _, known := range knownKeys {
		if len(known) == len(key) && bytes.EqualFold(known, key) && !bytes.Equal(known, key) {
			return unprocessable("key %s is spelled in another case", known)
		}
	}
	return nil
}

// stringEnd returns the index of the quote closing the string that opens at
// i, and whether the string holds an escape.
func stringEnd(body []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(body); j++ {
		switch body[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return len(body) - 1, escaped
}

// categoryOf is the category Coinflow sends with a tracked event type.
func categoryOf(eventType string) string {
	if _, ok := kycEvents[eventType]; ok {
		return "KYC"
	}
	return "Withdraw"
}
