package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

type runView struct {
	ID          string         `json:"id"`
	Trigger     string         `json:"trigger"`
	Outcome     string         `json:"outcome"`
	StartedAt   time.Time      `json:"started_at"`
	FinishedAt  *time.Time     `json:"finished_at"`
	WindowSince *time.Time     `json:"window_since"`
	Counts      models.Details `json:"counts"`
	Problems    models.Details `json:"problems"`
	Findings    []findingView  `json:"findings,omitempty"`
}

func newRunView(r *models.ReconcileRun) runView {
	return runView{
		ID: r.ID, Trigger: r.Trigger, Outcome: r.Outcome, StartedAt: r.StartedAt.UTC(),
		FinishedAt: utcPtr(r.FinishedAt), WindowSince: utcPtr(r.WindowSince), Counts: r.Counts, Problems: r.Problems,
	}
}

func (h *handlers) startReconcile(c *gin.Context) {
	if h.reconciler == nil {
		respond.Error(c, http.StatusServiceUnavailable, "not_configured", "coinflow api key not configured")
		return
	}
	run, err := h.reconciler.Start(c.Request.Context(), "api")
	switch {
	case errors.Is(err, reconcile.ErrBusy):
		respond.Error(c, http.StatusConflict, "reconcile_running", "a reconciliation run is already going")
	case err != nil:
		h.storeError(c, err, "run")
	default:
		c.JSON(http.StatusAccepted, gin.H{"run_id": run.ID})
	}
}

func (h *handlers) listRuns(c *gin.Context) {
	q := &query{c: c, errs: map[string]string{}}
	page := q.page()
	listPage(h, c, q, "runs", "run", func(ctx context.Context) ([]models.ReconcileRun, string, error) { return h.store.RunList(ctx, page) },
		newRunView)
}

// maxRunFindings bounds the findings shown with one run.
const maxRunFindings = 500

func (h *handlers) getRun(c *gin.Context) {
	ctx := c.Request.Context()
	run, err := h.store.RunGet(ctx, c.Param("id"))
	if err != nil {
		h.storeError(c, err, "run")
		return
	}
	fs, err := h.store.FindingListOfRun(ctx, run.ID, maxRunFindings)
	if err != nil {
		h.storeError(c, err, "run")
		return
	}
	v := newRunView(run)
	v.Findings = make([]findingView, len(fs))
	now := h.store.Now()
	for i := range fs {
		v.Findings[i] = newFindingView(&fs[i], now)
	}
	c.JSON(http.StatusOK, v)
}
