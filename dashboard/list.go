package dashboard

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/listquery"
	"github.com/payoutd/payoutd/models"
)

// pageSize is the rows per page of every list.
const pageSize = 50

// listing is what every list page shares: its path, the filters its query
// gave and the page it asks for. Every link the page makes keeps the
// filters.
type listing struct {
	path   string
	what   string // the rows' noun, for the error page
	filter url.Values
	page   models.Page
	// problems are what is wrong with the query, by parameter: a value a
	// filter does not take, or a parameter the page does not know.
	problems map[string]string
}

// newListing reads the filters named by keys, trimmed, and the cursor from
// the query of a request for the list at path.
func newListing(c *gin.Context, path, what string, keys ...string) listing {
	l := listing{path: path, what: what, filter: url.Values{}, page: models.Page{Limit: pageSize, Cursor: c.Query("cursor")},
		problems: map[string]string{}}
	for _, k := range keys {
		l.filter.Set(k, strings.TrimSpace(c.Query(k)))
	}
	return l
}

// strict records every query parameter that is neither a filter of the
// list, its cursor nor one of also (a field that jumps to a record): a
// filter the page does not know must not be silently ignored.
func (l *listing) strict(c *gin.Context, also ...string) {
	for k := range c.Request.URL.Query() {
		if _, ok := l.filter[k]; !ok && k != "cursor" && !slices.Contains(also, k) {
			l.problems[k] = "is not a filter of this page"
		}
	}
}

// oneOf is the value of the filter key when valid takes it (or it is not
// given); another value is a problem naming the choices.
func oneOf[T ~string](l *listing, key string, valid func(T) bool, choices []T) T {
	v := T(l.get(key))
	if v != "" && !valid(v) {
		names := make([]string, len(choices))
		for i, o := range choices {
			names[i] = string(o)
		}
		l.problems[key] = "must be one of " + strings.Join(names, ", ")
	}
	return v
}

// flag reads a filter that is true or false, by the API's rule.
func (l *listing) flag(key string) bool {
	b, err := listquery.Bool(l.get(key))
	if err != nil {
		l.problems[key] = listquery.BoolRule
	}
	return b
}

// timeRange reads the from and to filters as the half-open range [from,
// to), by the API's rule (an RFC 3339 time, or a date: its midnight UTC),
// but for two things the form needs: to's date is included (the form's
// date fields name the last day shown), and a minute as a datetime-local
// field sends it is taken too. Given both, to must come after from.
func (l *listing) timeRange() (from, to time.Time) {
	from, ok := l.time("from")
	to, okTo := l.time("to")
	if ok && okTo && !from.IsZero() && !to.IsZero() && !from.Before(to) {
		l.problems["to"] = "must come after from"
	}
	return from, to
}

// localMinute is how a datetime-local field sends its value.
const localMinute = "2006-01-02T15:04"

// time reads the filter key for timeRange; ok is false when it is not a
// time.
func (l *listing) time(key string) (t time.Time, ok bool) {
	s := l.get(key)
	if t, err := time.Parse(localMinute, s); err == nil {
		return t, true
	}
	t, date, err := listquery.Time(s)
	if err != nil {
		l.problems[key] = listquery.TimeRule + " (or YYYY-MM-DDTHH:MM)"
		return time.Time{}, false
	}
	if date && key == "to" {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}

// rejected answers 400 naming each problem of the query, and reports
// whether it did.
func (h *handler) rejected(c *gin.Context, l listing) bool {
	if len(l.problems) == 0 {
		return false
	}
	keys := slices.Sorted(maps.Keys(l.problems))
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = k + " " + l.problems[k]
	}
	h.fail(c, http.StatusBadRequest, "Bad filter", "This page cannot be filtered so: "+strings.Join(msgs, "; ")+".", l.path)
	return true
}

// jumpTo redirects to prefix plus the id the query's key names, for a
// list's field that goes straight to one record's page; it reports whether
// it did.
func jumpTo(c *gin.Context, key, prefix string) bool {
	id := strings.TrimSpace(c.Query(key))
	if id == "" {
		return false
	}
	c.Redirect(http.StatusSeeOther, prefix+url.PathEscape(id))
	return true
}

// get is one filter's value, "" when not given.
func (l listing) get(key string) string { return l.filter.Get(key) }

// filtered reports whether any filter was given.
func (l listing) filtered() bool {
	for k := range l.filter {
		if l.get(k) != "" {
			return true
		}
	}
	return false
}

// link is the list's link with its filters, from cursor ("" for the first
// page).
func (l listing) link(cursor string) string {
	return withQuery(l.path, cloneWith(l.filter, "cursor", cursor))
}

// listPage asks list for l's page and returns its rows and the link to the
// next page ("" on the last). On a store error it has answered, and ok is
// false.
func listPage[T any](h *handler, c *gin.Context, l listing, list func(context.Context, models.Page) ([]T, string, error)) (rows []T, next string, ok bool) {
	rows, cursor, err := list(c.Request.Context(), l.page)
	if err != nil {
		h.storeError(c, err, l.what, l.path)
		return nil, "", false
	}
	if cursor != "" {
		next = l.link(cursor)
	}
	return rows, next, true
}

// choiceField is a filter's select for the "choice" partial.
type choiceField struct {
	Label, Name string
	Options     []choiceOption
}

type choiceOption struct {
	Value, Text string
	Selected    bool
}

// choice is the select of a filter named name, offering options and
// "any", with selected chosen.
func choice[T ~string](label, name string, selected T, options []T) choiceField {
	f := choiceField{Label: label, Name: name}
	for _, o := range options {
		f.Options = append(f.Options, choiceOption{Value: string(o), Text: human(o), Selected: o == selected})
	}
	return f
}

// cloneWith copies q with key set to value.
func cloneWith(q url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	out.Set(key, value)
	return out
}
