package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

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
}

// newListing reads the filters named by keys, trimmed, and the cursor from
// the query of a request for the list at path.
func newListing(c *gin.Context, path, what string, keys ...string) listing {
	l := listing{path: path, what: what, filter: url.Values{}, page: models.Page{Limit: pageSize, Cursor: c.Query("cursor")}}
	for _, k := range keys {
		l.filter.Set(k, strings.TrimSpace(c.Query(k)))
	}
	return l
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

// known reports whether v is "" (no filter) or one of the choices a filter
// form offers.
func known[T ~string](v T, choices []T) bool { return v == "" || slices.Contains(choices, v) }

// badFilter answers a filter value the list's form does not offer.
func (h *handler) badFilter(c *gin.Context, l listing) {
	h.fail(c, http.StatusBadRequest, "Unknown filter", "A filter has a value this dashboard does not know.", l.path)
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
