package dashboard

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// shown is one value as a cell shows it: Text, and when Text is shortened
// the whole value in Full (the title on hover and what Copy copies); Href
// links it somewhere.
type shown struct {
	Text string
	Full string
	Href string
}

// maxShown is the longest value shown whole; a longer one (a Coinflow
// transaction signature is 88 characters) keeps its start and end.
const maxShown = 28

// long shows s, shortened to its start and end when it is longer than
// maxShown.
func long(s string) shown {
	r := []rune(s)
	if len(r) <= maxShown {
		return shown{Text: s}
	}
	return shown{Text: string(r[:14]) + "…" + string(r[len(r)-10:]), Full: s}
}

// detail is one line of a finding's details: a finance label and its value.
type detail struct {
	Label string
	Value shown
}

// detailLabels name the details' fields in finance words. A field not
// here is shown with its name in words.
var detailLabels = map[string]string{
	"local":                      "In payoutd",
	"coinflow":                   "At Coinflow",
	"transaction":                "Coinflow transaction",
	"reason":                     "Why",
	"source":                     "Seen in",
	"status":                     "Status",
	"coinflow_status":            "Status at Coinflow",
	"local_status":               "Status in payoutd",
	"payout_status":              "Payout status",
	"inbox_event_id":             "Coinflow message",
	"first_inbox_event_id":       "First copy of the message",
	"event_type":                 "Message type",
	"differs":                    "Differs in",
	"amount":                     "Amount",
	"speed":                      "Speed",
	"requested_speed":            "Requested speed",
	"effective_speed":            "Paid at speed",
	"expected":                   "Expected",
	"idempotency_key":            "Idempotency key",
	"idempotency_key_payout_id":  "Payout that has the key",
	"created_at":                 "Created",
	"deadline":                   "Due by",
	"deadline_basis":             "Due date from",
	"overdue_seconds":            "Overdue by",
	"balance_cents":              "Wallet balance",
	"floor_cents":                "Low-balance floor",
	"in_flight_cents":            "Owed to payouts in flight",
	"in_flight_unpriced_payouts": "Foreign payouts not priced yet",
	"from":                       "From",
	"to":                         "To",
	"balance_before_cents":       "Balance before",
	"balance_after_cents":        "Balance after",
	"change_cents":               "Change",
	"explained_cents":            "Explained",
	"payouts_cents":              "by payouts",
	"merchant_fees_cents":        "by merchant fees",
	"foreign_payouts_usd_cents":  "by foreign payouts",
	"failures_and_returns_cents": "by failures and returns",
	"unexplained_cents":          "Unexplained",
	"tolerance_cents":            "Tolerance",
	"count_last_day":             "Deliveries in the last day",
	"last_seen":                  "Last seen",
	"hint":                       "Hint",
	"verification_status":        "Verification",
	"blocked":                    "Blocked",
	"pending_since":              "Waiting since",
	"pending_for":                "Waiting for",
	"stall_after":                "Allowed",
	"checks":                     "Checks at Coinflow",
	"country":                    "Country",
	"attempts":                   "Delivery attempts",
	"url":                        "Sent to",
	"first_sent_at":              "First sent",
	"last_sent_at":               "Last sent",
	"last_response_code":         "Last HTTP answer",
	"last_attempt_id":            "Coinflow delivery id",
	"resends":                    "Resends asked",
	"last_resent_at":             "Last resend asked",
	"last_job_id":                "Resend job",
}

// detailOrder puts the fields finance reads first at the top; the rest
// follow by label.
var detailOrder = []string{
	"reason", "expected", "amount", "local", "coinflow", "status", "local_status", "coinflow_status", "payout_status",
	"requested_speed", "effective_speed", "speed", "overdue_seconds", "deadline",
	"balance_cents", "floor_cents", "in_flight_cents", "unexplained_cents", "change_cents", "explained_cents",
	"explained_by", "balance_before_cents", "balance_after_cents", "tolerance_cents", "from", "to",
}

// codeWords translate the internal codes a detail can hold.
var codeWords = map[string]string{
	decide.FindingTerminalChanged: "Coinflow changed a payout it had finished",
	decide.FindingLocalAhead:      "Coinflow's record is behind payoutd's",
	decide.FindingKeyReused:       "the withdrawal reused another payout's idempotency key",
	"conflicting_redelivery":      "two deliveries of one message disagree",
	"nacha_same_day_limit":        "over NACHA's same-day limit of 1,000,000.00 USD",
	"expected_delivery_date":      "Coinflow's expected delivery date",
	"webhook":                     "a Coinflow message",
	"reconcile":                   "reconciliation",
	"api":                         "payoutd's API",
	// The names withdrawDifferences gives, as Coinflow spells them.
	"total":          "amount",
	"userFees":       "user fees",
	"merchantFees":   "merchant fees",
	"userId":         "user",
	"idempotencyKey": "idempotency key",
}

// codeKeys are the fields whose values are codes, shown in words; any
// other text (a transaction, a key, a user) is shown as it is.
var codeKeys = map[string]bool{
	"reason": true, "source": true, "status": true, "local_status": true, "coinflow_status": true, "payout_status": true,
	"speed": true, "requested_speed": true, "effective_speed": true, "deadline_basis": true, "verification_status": true,
	"local": true, "coinflow": true, "differs": true,
}

// words is a code in words: its translation, or its snake_case as words.
func words(s string) string {
	if w, ok := codeWords[s]; ok {
		return w
	}
	if speed, ok := strings.CutPrefix(s, "window:"); ok {
		return "the " + human(speed) + " delivery window"
	}
	return human(s)
}

// findingDetails lists a finding's details for people: finance labels,
// money as amounts per currency (wallet cents are USD), durations and times
// in words, codes translated, long values shortened with the whole value at
// hand. Nested objects become lines of their own.
func findingDetails(d models.Details) []detail {
	out := make([]detail, 0, len(d))
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		for i, o := range detailOrder {
			if o == k {
				return i
			}
		}
		return len(detailOrder)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return label(keys[i]) < label(keys[j])
	})
	for _, k := range keys {
		if nested, ok := asObject(d[k]); ok && !isMoney(nested) {
			out = append(out, findingDetails(nested)...)
			continue
		}
		out = append(out, detail{Label: label(k), Value: detailValue(k, d[k])})
	}
	return out
}

func label(key string) string {
	if l, ok := detailLabels[key]; ok {
		return l
	}
	s := human(key)
	return strings.ToUpper(s[:min(1, len(s))]) + s[min(1, len(s)):]
}

// detailValue shows the value v of the field key.
func detailValue(key string, v any) shown {
	switch {
	case v == nil:
		return shown{Text: "none"}
	case strings.HasSuffix(key, "_cents"):
		if c, ok := cents(v); ok {
			return shown{Text: formatMoney(models.Money{Cents: c, Currency: "USD"})}
		}
	case strings.HasSuffix(key, "_seconds"):
		if n, ok := cents(v); ok {
			return shown{Text: durationWords(time.Duration(n) * time.Second)}
		}
	case key == "inbox_event_id" || key == "first_inbox_event_id":
		if n, ok := cents(v); ok {
			return shown{Text: "message " + strconv.FormatInt(n, 10), Href: "/events/" + strconv.FormatInt(n, 10)}
		}
	case key == "idempotency_key_payout_id":
		if s, ok := v.(string); ok {
			return shown{Text: "payout " + shortID(s), Full: s, Href: "/payouts/" + url.PathEscape(s)}
		}
	}
	switch v := v.(type) {
	case bool:
		if v {
			return shown{Text: "yes"}
		}
		return shown{Text: "no"}
	case models.Money:
		return shown{Text: formatMoney(v)}
	case time.Time:
		return shown{Text: formatTime(v)}
	case time.Duration:
		return shown{Text: durationWords(v)}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return shown{Text: formatTime(t)}
		}
		if d, err := time.ParseDuration(v); err == nil && strings.ContainsAny(v, "hms") {
			return shown{Text: durationWords(d)}
		}
		if codeKeys[key] {
			return shown{Text: words(v)}
		}
		if strings.Contains(v, " ") {
			return shown{Text: v} // a sentence: it wraps
		}
		return long(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = detailValue(key, e).Text
		}
		return shown{Text: strings.Join(parts, ", ")}
	case []string:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = words(e)
		}
		return shown{Text: strings.Join(parts, ", ")}
	}
	if m, ok := asObject(v); ok {
		if money, ok := moneyOf(m); ok {
			return shown{Text: formatMoney(money)}
		}
	}
	if n, ok := cents(v); ok {
		return shown{Text: groupDigits(n)}
	}
	return long(jsonValue(v, "none"))
}

// asObject is v as a JSON object: decoded from the stored JSON, or a
// Details made in memory.
func asObject(v any) (models.Details, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case models.Details:
		return m, true
	}
	return nil, false
}

func isMoney(m models.Details) bool {
	_, ok := moneyOf(m)
	return ok
}

// moneyOf reads {"cents": n, "currency": "USD"}, the shape of Money in JSON.
func moneyOf(m models.Details) (models.Money, bool) {
	if len(m) != 2 {
		return models.Money{}, false
	}
	c, okC := cents(m["cents"])
	cur, okCur := m["currency"].(string)
	if !okC || !okCur || cur == "" {
		return models.Money{}, false
	}
	return models.Money{Cents: c, Currency: cur}, true
}

// cents reads a whole number: decoded from JSON (a float64, exact below
// 2^53, well above any amount payoutd accepts) or made in memory.
func cents(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// groupDigits writes n with thousands separators: 1,234,567.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// durationWords says d in its two largest units, rounded down, the one way
// the dashboard says a duration: "2 minutes 57 seconds", "3 days 8 hours",
// "1 hour". Under a minute it gives seconds, with a tenth under ten: "1.5
// seconds".
func durationWords(d time.Duration) string {
	if d < 0 {
		return "-" + durationWords(-d)
	}
	if d < time.Minute {
		if d < 10*time.Second && d%time.Second != 0 {
			return strconv.FormatFloat(math.Floor(d.Seconds()*10)/10, 'f', 1, 64) + " seconds"
		}
		return plural(int64(d/time.Second), "second")
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}}
	var parts []string
	for i, u := range units {
		if n := int64(d / u.size); n > 0 {
			parts = append(parts, plural(n, u.name))
			d -= time.Duration(n) * u.size
			if len(parts) == 2 {
				break
			}
		} else if len(parts) == 1 && i > 0 {
			break // "1 day", not "1 day 4 minutes"
		}
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// findingSubject shows what a finding is about when it names no payout:
// the wallet, a withdrawer, a stored message, or a Coinflow transaction
// (shortened, whole on hover and copy).
func findingSubject(f *models.Finding) shown {
	s := f.Subject
	switch {
	case s == "wallet" || strings.HasPrefix(s, "wallet:"):
		return shown{Text: "the wallet"}
	case strings.HasPrefix(s, "withdrawer:"):
		u := strings.TrimPrefix(s, "withdrawer:")
		return shown{Text: "withdrawer " + u, Href: "/withdrawers/" + url.PathEscape(u)}
	case strings.HasPrefix(s, "inbox:"), strings.HasPrefix(s, "redelivery:"):
		_, id, _ := strings.Cut(s, ":")
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			return shown{Text: "message " + id, Href: "/events/" + id}
		}
	case s == "webhooks:authorization":
		return shown{Text: "Coinflow's messages"}
	case f.Kind == models.KindMissingLocally:
		v := long(s)
		v.Href = "/payouts?transaction=" + url.QueryEscape(s)
		if v.Full == "" {
			v.Full = s
		}
		return v
	}
	return long(s)
}
