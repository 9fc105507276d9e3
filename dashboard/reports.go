package dashboard

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
)

// mustAddReportsPage parses the Reports page into pages. It is parsed on a
// clone of another page, so that it gets the layout, the partials and the
// functions every page has, plus its own for the report's amounts.
func mustAddReportsPage(pages map[string]*template.Template) {
	t := template.Must(pages["error"].Clone())
	t.Funcs(template.FuncMap{
		"amount": func(a report.Amount) string { return formatMoney(models.Money{Cents: a.Cents, Currency: a.Currency}) },
		"rmoney": func(m report.Money) string { return formatMoney(models.Money{Cents: m.Cents, Currency: m.Currency}) },
	})
	pages["reports"] = template.Must(t.ParseFS(embedded, "templates/reports.html"))
}

// reportDay is how the Reports page's dates are written: UTC days, both
// ends included.
const reportDay = time.DateOnly

type reportsData struct {
	From, To  string // the form's days, both included
	Summary   *report.Summary
	Downloads []reportDownload
	// FirstBalance and LastBalance are the range's first and last wallet
	// snapshots; nil when it has none.
	FirstBalance, LastBalance *report.WalletPoint
	Reconcile                 reconcileButton
}

type reportDownload struct {
	Name, URL string
}

// reports shows the finance report (report.Build) for a range of days,
// by default the current month to date on the store's clock, with a
// download link for each CSV report.
func (h *handler) reports(c *gin.Context) {
	l := newListing(c, "/reports", "report", "from", "to")
	l.strict(c)
	from, to := h.reportRange(&l)
	if h.rejected(c, l) {
		return
	}
	s, err := report.Build(c.Request.Context(), h.store, from, to)
	if err != nil {
		h.storeError(c, err, "report", "/reports")
		return
	}
	d := reportsData{
		From: from.Format(reportDay), To: to.AddDate(0, 0, -1).Format(reportDay), Summary: s,
		Reconcile: h.reconcileButton(c),
	}
	if h.writeReport != nil {
		for _, name := range h.reportNames {
			d.Downloads = append(d.Downloads, reportDownload{Name: name, URL: withQuery("/reports/download",
				url.Values{"report": {name}, "from": {d.From}, "to": {d.To}})})
		}
	}
	if n := len(s.Wallet.Snapshots); n > 0 {
		d.FirstBalance, d.LastBalance = &s.Wallet.Snapshots[0], &s.Wallet.Snapshots[n-1]
	}
	h.render(c, http.StatusOK, "reports", view{Title: "Reports", Active: "reports", Data: d})
}

// reportDownload answers one CSV report as an attachment. It is a GET
// behind the login that changes nothing. It streams (respond.Download): a
// failure before the first byte is an error page, one after it cuts the
// download, so that the browser marks it failed rather than keeping a
// short file.
func (h *handler) reportDownload(c *gin.Context) {
	l := newListing(c, "/reports", "report", "report", "from", "to")
	l.strict(c)
	name := oneOf(&l, "report", func(s string) bool { return slices.Contains(h.reportNames, s) }, h.reportNames)
	if name == "" {
		l.problems["report"] = "is required: one of " + strings.Join(h.reportNames, ", ")
	}
	from, to := h.reportRange(&l)
	if h.rejected(c, l) {
		return
	}
	if h.writeReport == nil {
		h.fail(c, http.StatusServiceUnavailable, "Downloads unavailable", "This payoutd offers no CSV reports.", "/reports")
		return
	}
	last := to.AddDate(0, 0, -1)
	out := respond.NewDownload(c, "text/csv; charset=utf-8", fmt.Sprintf("payoutd-%s-%s-through-%s.csv",
		name, from.Format(reportDay), last.Format(reportDay)))
	// Streamed: the itemized payouts of a month can be a hundred megabytes.
	// A failure before the first byte is an error page; after it, the
	// download is cut so that the browser marks it failed.
	err := h.writeReport(c.Request.Context(), out, name, from, to)
	switch {
	case err == nil:
		if !out.Started() {
			out.Start()
		}
	case !out.Started():
		h.storeError(c, err, "report", "/reports")
	case c.Request.Context().Err() != nil:
		h.logger(c).WithFields(logrus.Fields{"report": name, "bytes": out.Bytes()}).Info("report download abandoned")
	default:
		h.logger(c).WithError(err).WithFields(logrus.Fields{"report": name, "bytes": out.Bytes()}).Error("report cut short")
		respond.Abort(c)
	}
}

// reportRange reads the from and to days of l, both included, and returns
// them as report.Build takes them: UTC midnights, to excluded. A day not
// given defaults to the current month to date, on the store's clock.
// Problems go to l.
func (h *handler) reportRange(l *listing) (from, to time.Time) {
	y, m, d := h.now().UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	from = reportDate(l, "from", time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
	last := reportDate(l, "to", today)
	if len(l.problems) > 0 {
		return from, last
	}
	if last.Before(from) {
		l.problems["to"] = "must not be before from"
		return from, last
	}
	to = last.AddDate(0, 0, 1)
	if re, ok := errors.AsType[*report.RangeError](report.CheckRange(from, to)); ok {
		maps.Copy(l.problems, re.Fields)
	}
	return from, to
}

// reportDate reads one day of a report's range, def when not given.
func reportDate(l *listing, key string, def time.Time) time.Time {
	s := l.get(key)
	if s == "" {
		return def
	}
	t, err := time.Parse(reportDay, s)
	if err != nil {
		l.problems[key] = "must be a date like 2025-06-01 (YYYY-MM-DD)"
	}
	return t
}
