package api

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/report"
)

const (
	mimeJSON = "application/json"
	mimeCSV  = "text/csv"
)

// reportSummary serves GET /api/v1/reports/summary?from=YYYY-MM-DD&to=YYYY-MM-DD,
// to excluded: JSON, or CSV for format=csv or Accept: text/csv. An explicit
// format wins over Accept.
func (h *handlers) reportSummary(c *gin.Context) {
	errs := map[string]string{}
	from, to, err := report.ParseRange(c.Query("from"), c.Query("to"))
	if re, ok := errors.AsType[*report.RangeError](err); ok {
		maps.Copy(errs, re.Fields)
	}
	format := c.Query("format")
	switch format {
	case "", "json", "csv":
	default:
		errs["format"] = "must be json or csv"
	}
	if len(errs) > 0 {
		respond.FieldErrors(c, errs)
		return
	}
	if format == "" && c.NegotiateFormat(mimeJSON, mimeCSV) == mimeCSV {
		format = "csv"
	}

	s, err := report.Build(c.Request.Context(), h.store, from, to)
	if err != nil {
		h.storeError(c, err, "report")
		return
	}
	if format != "csv" {
		c.JSON(http.StatusOK, s)
		return
	}
	// Rendered whole before the status is written, so that a failure is
	// still an error answer rather than a truncated 200.
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, s); err != nil {
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("render report csv")
		respond.Internal(c)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="payoutd-report-%s-to-%s.csv"`, s.From, s.To))
	c.Data(http.StatusOK, mimeCSV+"; charset=utf-8", buf.Bytes())
}
