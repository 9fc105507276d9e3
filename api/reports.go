package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/report"
)

const (
	mimeJSON = "application/json"
	mimeCSV  = "text/csv"
)

// reportSummary serves GET /api/v1/reports/summary?from=YYYY-MM-DD&to=YYYY-MM-DD,
// to excluded, with report=NAME (one of report.Names) and format=json|csv
// or Accept. An explicit format wins over Accept.
//
// Without report: the Summary as JSON, or for format=csv or Accept:
// text/csv the combined CSV (report=all), as before the named reports.
// report=summary and report=all are the Summary in JSON too. Every other
// report is a CSV only, given when format is csv or absent (whatever
// Accept says: the name asks for that file). An unknown name, or format=json
// with a CSV-only report, is 400 naming the reports; a bad range or format
// is 422, as before.
func (h *handlers) reportSummary(c *gin.Context) {
	name, named := c.GetQuery("report")
	format := c.Query("format")
	hasJSON := !named || name == report.NameSummary || name == report.NameAll
	switch {
	case named && !slices.Contains(report.Names(), name):
		badReport(c, "unknown_report", fmt.Sprintf("unknown report %q: want one of %s", name, strings.Join(report.Names(), ", ")))
		return
	case !hasJSON && format == "json":
		badReport(c, "csv_only_report", fmt.Sprintf("report %s is a CSV: ask for format=csv (report=summary and report=all also come as JSON; "+
			"the reports are %s)", name, strings.Join(report.Names(), ", ")))
		return
	}
	errs := map[string]string{}
	from, to, err := report.ParseRange(c.Query("from"), c.Query("to"))
	if re, ok := errors.AsType[*report.RangeError](err); ok {
		maps.Copy(errs, re.Fields)
	}
	switch format {
	case "", "json", "csv":
	default:
		errs["format"] = "must be json or csv"
	}
	if len(errs) > 0 {
		respond.FieldErrors(c, errs)
		return
	}
	if format == "" && (!hasJSON || c.NegotiateFormat(mimeJSON, mimeCSV) == mimeCSV) {
		format = "csv"
	}
	if format != "csv" {
		s, err := report.Build(c.Request.Context(), h.store, from, to)
		if err != nil {
			h.storeError(c, err, "report")
			return
		}
		c.JSON(http.StatusOK, s)
		return
	}
	if !named {
		name = report.NameAll
	}
	out := respond.NewDownload(c, mimeCSV+"; charset=utf-8", fmt.Sprintf("payoutd-%s-%s-%s.csv", name, from.Format(time.DateOnly), to.Format(time.DateOnly)))
	err = report.WriteNamed(c.Request.Context(), out, h.store, name, from, to)
	switch {
	case err == nil:
		if !out.Started() {
			out.Start() // nothing to write is still a 200, with its headers
		}
	case !out.Started():
		h.storeError(c, err, "report")
	case c.Request.Context().Err() != nil:
		// The client went away: nothing to cut, and no fault of payoutd's.
		h.logger(c).WithFields(logrus.Fields{"route": c.FullPath(), "report": name, "bytes": out.Bytes()}).Info("report download abandoned")
	default:
		// The 200 and part of the file are out: cut the connection, so that
		// the client sees a broken download (curl exits 18, a browser marks
		// the download failed), never a short file that looks whole.
		h.logger(c).WithError(err).WithFields(logrus.Fields{"route": c.FullPath(), "report": name, "bytes": out.Bytes()}).
			Error("report cut short")
		respond.Abort(c)
	}
}

// badReport refuses a report parameter with 400, naming the field.
func badReport(c *gin.Context, code, message string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, respond.ErrorBody{Error: respond.ErrorDetail{
		Code: code, Message: message, Fields: map[string]string{"report": message},
	}})
}
