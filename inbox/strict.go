package inbox

import (
	"bytes"
	"encoding/json"
	"slices"
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
	[]byte("withdrawId"), []byte("rfiId"), []byte("amount"),
}

// centsKeys are the data fields that hold a CurrencyCents object.
var centsKeys = [][]byte{
	[]byte("total"), []byte("userFees"), []byte("userGasFees"), []byte("userCustomFees"), []byte("userSwapFees"),
	[]byte("merchantFees"), []byte("merchantGasFees"), []byte("merchantSwapFees"),
	[]byte("amount"),
}

// Levels of the objects payoutd reads.
const (
	unread = iota
	envelopeObject
	dataObject
	centsObject
)

// frame is an object or array open during checkKeys.
type frame struct {
	object    bool // an object, not an array
	level     int  // which object payoutd reads it as, or unread
	first     int  // its keys are keys[first:]
	expectKey bool
	lastKey   []byte
}

// checkKeys refuses a body in which an object payoutd reads (the envelope,
// its data, and the amounts in data) holds one key twice, or two keys that
// differ only in case, or a known key in another case: encoding/json would
// read either spelling, the last one winning. Objects payoutd does not read
// are not checked. It is a single pass over bytes that already parsed as
// JSON, and allocates only for a key written with escapes.
func checkKeys(body []byte) error {
	var (
		stack [8]frame // bodies nest 3 deep; deeper ones grow it
		open  = stack[:0]
		keys  = make([][]byte, 0, 32)
	)
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{', '[':
			f := frame{object: c == '{', first: len(keys), expectKey: c == '{'}
			if c == '{' {
				f.level = childLevel(open)
			}
			open = append(open, f)
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
				if open[top].level != unread {
					if err := checkKey(keys[open[top].first:], key); err != nil {
						return err
					}
					keys = append(keys, key)
				}
				open[top].lastKey = key
				open[top].expectKey = false
			}
			i = end
		}
	}
	return nil
}

// childLevel is the level of an object opening inside the frames open:
// the envelope at the top, data under the envelope's "data", an amount
// under one of data's cents fields; anything else is not read.
func childLevel(open []frame) int {
	if len(open) == 0 {
		return envelopeObject
	}
	parent := open[len(open)-1]
	switch {
	case !parent.object:
		return unread
	case parent.level == envelopeObject && bytes.EqualFold(parent.lastKey, []byte("data")):
		return dataObject
	case parent.level == dataObject && slices.ContainsFunc(centsKeys, func(k []byte) bool { return bytes.EqualFold(k, parent.lastKey) }):
		return centsObject
	}
	return unread
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
		// No length test first: EqualFold matches 'ſ' to 's' and the
		// Kelvin sign to 'k', as encoding/json does.
		if bytes.EqualFold(known, key) && !bytes.Equal(known, key) {
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

// categoryOf is the category Coinflow sends with a tracked event type, ""
// when the spec does not say (the rail events: any category is taken).
func categoryOf(eventType string) string {
	if _, ok := kycEvents[eventType]; ok {
		return "KYC"
	}
	if _, ok := railEvents[eventType]; ok {
		return ""
	}
	return "Withdraw"
}
