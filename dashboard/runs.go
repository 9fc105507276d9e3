package dashboard

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

type runRow struct {
	models.ReconcileRun
	Duration string // "" while running
}

func newRunRow(r models.ReconcileRun) runRow {
	row := runRow{ReconcileRun: r}
	if r.FinishedAt != nil {
		row.Duration = durationWords(r.FinishedAt.Sub(r.StartedAt))
	}
	return row
}

type runsData struct {
	Runs      []runRow
	Next      string
	Reconcile reconcileButton
}

func (h *handler) runs(c *gin.Context) {
	l := newListing(c, "/runs", "run")
	l.strict(c)
	if h.rejected(c, l) {
		return
	}
	rs, next, ok := listPage(h, c, l, h.store.RunList)
	if !ok {
		return
	}
	d := runsData{Next: next, Reconcile: h.reconcileButton(c)}
	for _, r := range rs {
		d.Runs = append(d.Runs, newRunRow(r))
	}
	h.render(c, http.StatusOK, "runs", view{Title: "Reconciliation runs", Active: "runs", Data: d})
}

type runData struct {
	Run      runRow
	Findings []models.Finding
	Self     string
	Acked    string
	Snoozed  *models.Finding
}

// maxRunFindings bounds the findings shown with one run, as the API does.
const maxRunFindings = 500

func (h *handler) run(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := h.store.RunGet(ctx, c.Param("id"))
	if err != nil {
		h.storeError(c, err, "run", "/runs")
		return
	}
	fs, err := h.store.FindingListOfRun(ctx, r.ID, maxRunFindings)
	if err != nil {
		h.storeError(c, err, "run", "/runs")
		return
	}
	d := runData{
		Run: newRunRow(*r), Findings: fs, Self: "/runs/" + url.PathEscape(r.ID),
		Acked: h.ackedNotice(ctx, c.Query("acked")), Snoozed: h.snoozedNotice(ctx, c.Query("snoozed")),
	}
	h.render(c, http.StatusOK, "run", view{Title: "Run " + shortID(r.ID), Active: "runs", Data: d})
}
