package coinflowtest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const maxBody = 1 << 20

// checker is a request body that knows its own field rules.
type checker interface {
	// check returns the message of a 400, or "" for a good request.
	check() string
}

// required returns msg when any of fields is empty, else "": the check of
// a body whose fields are all mandatory.
func required(msg string, fields ...string) string {
	if slices.Contains(fields, "") {
		return msg
	}
	return ""
}

// decodeBody reads a JSON object into v and, when v is a checker, checks
// it; on failure it answers 400 and returns false. Unknown fields are
// ignored, as an API that grows does.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeMsg(w, http.StatusBadRequest, "Invalid request body")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeMsg(w, http.StatusBadRequest, "Invalid JSON body")
		return false
	}
	if c, ok := v.(checker); ok {
		if msg := c.check(); msg != "" {
			writeMsg(w, http.StatusBadRequest, msg)
			return false
		}
	}
	return true
}

// jsonInt accepts only a JSON integer literal: "100", 100.5, 1e2 and null
// are not cents.
type jsonInt struct {
	v  int64
	ok bool
}

func (j *jsonInt) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	j.v, j.ok = n, err == nil
	return nil
}

// amountJSON is PayoutDelegatedArgsAmount / DelegatedPayoutQuoteArgsAmount.
type amountJSON struct {
	Cents    *jsonInt `json:"cents"`
	Currency *string  `json:"currency"`
}

// validate returns the cents and the currency ("" when not given: the
// destination's), or a message for a 400.
func (a *amountJSON) validate() (int64, string, string) {
	switch {
	case a == nil:
		return 0, "", "amount is required"
	case a.Cents == nil:
		return 0, "", "amount.cents is required"
	case !a.Cents.ok:
		return 0, "", "amount.cents must be an integer"
	case a.Cents.v <= 0:
		return 0, "", "amount.cents must be positive"
	case a.Currency == nil:
		return a.Cents.v, "", ""
	case len(*a.Currency) != 3 || !isUpperAlpha(*a.Currency):
		return 0, "", "amount.currency must be an ISO 4217 code"
	}
	return a.Cents.v, *a.Currency, ""
}

// pageParams are page (1-based) and limit, shared by the list endpoints.
type pageParams struct {
	page, limit int
}

func (p pageParams) offset() int { return (p.page - 1) * p.limit }

// parsePage reads page and limit ("number" in the spec, so 2.0 is 2).
func (e *Emulator) parsePage(q map[string][]string) (pageParams, string) {
	p := pageParams{page: 1, limit: min(DefaultPageLimit, e.opts.PageLimitMax)}
	if v := first(q, "page"); v != "" {
		n, ok := wholeNumber(v)
		if !ok || n < 1 {
			return p, "page must be a whole number >= 1 (pages start at 1)"
		}
		p.page = n
	}
	if v := first(q, "limit"); v != "" {
		n, ok := wholeNumber(v)
		if !ok || n < 1 {
			return p, "limit must be a whole number >= 1"
		}
		p.limit = min(n, e.opts.PageLimitMax)
	}
	return p, ""
}

func wholeNumber(s string) (int, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) || f > 1e9 {
		return 0, false
	}
	return int(f), true
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// parseTime reads an ISO-8601 instant: RFC 3339 with or without fraction,
// or a bare date (midnight UTC).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true // epoch milliseconds, as JS clients send
	}
	return time.Time{}, false
}

// window is an inclusive createdAt (or sentAt) range; zero ends are open.
type window struct{ since, until time.Time }

func parseWindow(q map[string][]string, sinceKey, untilKey string) (window, string) {
	var w window
	if v := first(q, sinceKey); v != "" {
		t, ok := parseTime(v)
		if !ok {
			return w, sinceKey + " must be an ISO-8601 date-time"
		}
		w.since = t
	}
	if v := first(q, untilKey); v != "" {
		t, ok := parseTime(v)
		if !ok {
			return w, untilKey + " must be an ISO-8601 date-time"
		}
		w.until = t
	}
	return w, ""
}

func (w window) contains(t time.Time) bool {
	return (w.since.IsZero() || !t.Before(w.since)) && (w.until.IsZero() || !t.After(w.until))
}
