package dashboard

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/payoutd/payoutd/models"
)

// pageNames are the templates under templates/, each rendered inside
// templates/layout.html.
var pageNames = []string{
	"login", "error", "overview", "findings", "payouts", "payout", "runs", "run", "withdrawers", "withdrawer",
	"events", "event", "runbook",
}

// mustParsePages parses every page; now is the clock that says whether a
// finding is snoozed.
func mustParsePages(assets *assetSet, now func() time.Time) map[string]*template.Template {
	funcs := template.FuncMap{
		"asset":   assets.url,
		"when":    formatTime,
		"whenPtr": formatTimePtr,
		"iso":     isoTime,
		"str":     models.Deref,
		"money":   formatMoney,
		"human":   human,
		"pairs":   pairs,
		"short":   shortID,
		"findingTable": func(fs []models.Finding, csrf, ret string) findingTable {
			return newFindingTable(fs, now(), csrf, ret)
		},
		"count": func(n int64, one, many string) string {
			if n == 1 {
				return "1 " + one
			}
			return groupDigits(n) + " " + many
		},
		"payoutTable": func(ps []models.Payout, showUser bool, empty string) payoutTable {
			return payoutTable{Payouts: ps, ShowUser: showUser, Empty: empty}
		},
		"usd":          usd,
		"changes":      changeList,
		"tokenHint":    tokenHint,
		"withdrawerAt": func(userID string) string { return "/withdrawers/" + url.PathEscape(userID) },
		"eventAt":      func(id int64) string { return "/events/" + strconv.FormatInt(id, 10) },
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(embedded, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			panic("dashboard: parse template " + name + ": " + err.Error())
		}
		pages[name] = t
	}
	return pages
}

// human shows an identifier (a status, a kind) to people: words, not
// snake_case.
func human(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") }

// Times are shown in UTC, as the API gives them. A no-break space keeps the
// zone with the time when a narrow column wraps after the date.
const timeLayout = "2006-01-02 15:04:05\u00a0UTC"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shortID is the end of a long id, enough to tell rows apart; the full id
// is in the link and its title. The end, because ids are UUIDv7: their
// first digits are a timestamp, the same for records made together.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return "…" + id[len(id)-8:]
}

// findingTable is what the findings-table partial shows: the rows, and the
// acknowledge and snooze forms when a session gave a CSRF token.
type findingTable struct {
	Rows    []findingRow
	Actions bool
	CSRF    string
	Return  string // where an acknowledge or a snooze returns to
	// SnoozeMin and SnoozeMax bound the snooze form's date: tomorrow to
	// MaxSnooze ahead, in UTC.
	SnoozeMin, SnoozeMax string
}

// findingRow is one finding as finance reads it: what its kind means and
// what to do, its details in words, its subject, and whether it is snoozed.
type findingRow struct {
	*models.Finding
	Runbook RunbookEntry
	Details []detail
	Subject shown
	Snoozed bool
}

func newFindingTable(fs []models.Finding, now time.Time, csrf, ret string) findingTable {
	t := findingTable{Actions: csrf != "", CSRF: csrf, Return: ret, Rows: make([]findingRow, len(fs))}
	for i := range fs {
		f := &fs[i]
		t.Rows[i] = findingRow{
			Finding: f, Runbook: runbookFor(f.Kind), Details: findingDetails(f.Details), Subject: findingSubject(f),
			Snoozed: f.Snoozed(now),
		}
	}
	today := now.UTC().Truncate(24 * time.Hour)
	t.SnoozeMin = today.AddDate(0, 0, 1).Format(time.DateOnly)
	t.SnoozeMax = now.UTC().Add(models.MaxSnooze).Format(time.DateOnly)
	return t
}

// payoutTable is what the payouts-table partial shows: the rows, with a
// user column unless they are all one user's.
type payoutTable struct {
	Payouts  []models.Payout
	ShowUser bool
	Empty    string // the text when there are no rows
}

func formatMoney(m models.Money) string { return strings.TrimSpace(m.String()) }

// usd shows a wallet amount in USD cents, "" when not known.
func usd(cents *int64) string {
	if cents == nil {
		return ""
	}
	return formatMoney(models.Money{Cents: *cents, Currency: "USD"})
}

// tokenHint is the start of a destination token, enough to tell a user's
// destinations apart. A token names where money goes: it is never shown
// whole, at most its first 6 characters and never more than half of it.
func tokenHint(token string) string {
	r := []rune(token)
	return string(r[:min(6, len(r)/2)]) + "…"
}

type pair struct{ Key, Value string }

// pairs lists a JSON object's entries sorted by key, nested values as
// compact JSON, for a finding's details or a run's counts.
func pairs(d models.Details) []pair {
	out := make([]pair, 0, len(d))
	for k, v := range d {
		out = append(out, pair{Key: k, Value: jsonValue(v, "null")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// jsonValue shows a value decoded from JSON: a string as it is, null as
// the text null, anything else as compact JSON.
func jsonValue(v any, null string) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return null
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

type change struct{ Field, From, To string }

// changeList lists the fields a decision changed beside the status, sorted
// by field, an unset value as "none".
func changeList(c models.Changes) []change {
	out := make([]change, 0, len(c))
	for k, v := range c {
		out = append(out, change{Field: k, From: jsonValue(v[0], "none"), To: jsonValue(v[1], "none")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// withQuery returns path with the non-empty values of q.
func withQuery(path string, q url.Values) string {
	for k, vs := range q {
		if len(vs) == 0 || vs[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
