package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

// RunStarter starts a reconciliation run in the background and returns it
// as recorded (running): reconcile.Reconciler.Start, the one the API's POST
// /api/v1/reconcile calls. It returns reconcile.ErrBusy while a run is
// going.
type RunStarter interface {
	Start(ctx context.Context, trigger string) (*models.ReconcileRun, error)
}

// runTrigger is the trigger recorded for a run started from the dashboard.
const runTrigger = "dashboard"

// reconcileOff says why the button does nothing without a reconciler.
const reconcileOff = "Reconciliation is not configured: payoutd has no Coinflow API key (coinflow.api_key), so it cannot read Coinflow's records."

// reconcileButton is what the "reconcile now" partial shows.
type reconcileButton struct {
	CSRF    string
	Enabled bool
	Reason  string // why it is disabled
}

// reconcileButton is the button for the page c asks for.
func (h *handler) reconcileButton(c *gin.Context) reconcileButton {
	b := reconcileButton{CSRF: h.sessions.csrf(sessionOf(c)), Enabled: h.reconciler != nil}
	if !b.Enabled {
		b.Reason = reconcileOff
	}
	return b
}

// reconcileNow starts a run and shows its page. requireSession and
// requireCSRF have run.
func (h *handler) reconcileNow(c *gin.Context) {
	if h.reconciler == nil {
		h.fail(c, http.StatusServiceUnavailable, "Reconciliation not configured", reconcileOff, "/runs")
		return
	}
	ctx := c.Request.Context()
	run, err := h.reconciler.Start(ctx, runTrigger)
	switch {
	case errors.Is(err, reconcile.ErrBusy):
		h.fail(c, http.StatusConflict, "Already reconciling",
			"A reconciliation run is already going, so no other was started. Its outcome will be in the runs list when it ends.", "/runs")
	case err != nil:
		h.storeError(c, err, "run", "/runs")
	default:
		h.logger(c).WithFields(logrus.Fields{"run_id": run.ID, "principal": principal.Name(c)}).Info("reconciliation started from the dashboard")
		c.Redirect(http.StatusSeeOther, "/runs/"+url.PathEscape(run.ID))
	}
}
