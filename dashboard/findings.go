package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

// The filter choices, in the order the forms list them.
var (
	findingStatuses = []models.FindingStatus{models.FindingOpen, models.FindingAcknowledged, models.FindingResolved}
	findingKinds    = []models.FindingKind{
		models.KindStatusMismatch, models.KindMissingLocally, models.KindMissingAtCoinflow, models.KindAmountMismatch,
		models.KindSpeedMismatch, models.KindStuckPayout, models.KindUnverifiedWithdrawer, models.KindWalletLowBalance,
		models.KindWalletDrift, models.KindWebhookUnprocessable,
	}
	severities = []models.Severity{models.SeverityError, models.SeverityWarning, models.SeverityInfo}
)

// pageSize is the rows per page of every list.
const pageSize = 50

// Limits of the acknowledge form, as the API has them.
const (
	maxNote = 2000
	maxBy   = 200
)

type findingsData struct {
	Filter   models.FindingFilter
	Statuses []models.FindingStatus
	Kinds    []models.FindingKind
	Sevs     []models.Severity
	Findings []models.Finding
	Next     string // the next page's link, or ""
	Self     string // this page's link, where an acknowledge returns to
	Acked    string // the id just acknowledged, for the notice
}

func (h *handler) findings(c *gin.Context) {
	f := models.FindingFilter{
		Status:   models.FindingStatus(c.Query("status")),
		Kind:     models.FindingKind(c.Query("kind")),
		Severity: models.Severity(c.Query("severity")),
		PayoutID: strings.TrimSpace(c.Query("payout_id")),
		Page:     models.Page{Limit: pageSize, Cursor: c.Query("cursor")},
	}
	if (f.Status != "" && !slices.Contains(findingStatuses, f.Status)) ||
		(f.Kind != "" && !slices.Contains(findingKinds, f.Kind)) ||
		(f.Severity != "" && !slices.Contains(severities, f.Severity)) {
		h.fail(c, http.StatusBadRequest, "Unknown filter", "A filter has a value this dashboard does not know.", "/findings")
		return
	}
	fs, next, err := h.store.FindingList(c.Request.Context(), f)
	if err != nil {
		h.storeError(c, err, "finding", "/findings")
		return
	}
	q := url.Values{
		"status": {string(f.Status)}, "kind": {string(f.Kind)}, "severity": {string(f.Severity)},
		"payout_id": {f.PayoutID},
	}
	d := findingsData{
		Filter: f, Statuses: findingStatuses, Kinds: findingKinds, Sevs: severities, Findings: fs,
		Self:  withQuery("/findings", cloneWith(q, "cursor", f.Cursor)),
		Acked: h.ackedNotice(c.Request.Context(), c.Query("acked")),
	}
	if next != "" {
		d.Next = withQuery("/findings", cloneWith(q, "cursor", next))
	}
	h.render(c, http.StatusOK, "findings", view{Title: "Findings", Active: "findings", Data: d})
}

// acknowledge records the note on an open finding. requireSession and
// requireCSRF have run: this is a form of this dashboard, posted by a
// logged-in user.
func (h *handler) acknowledge(c *gin.Context) {
	id := c.Param("id")
	back := returnPath(c.PostForm("return"))
	note := strings.TrimSpace(c.PostForm("note"))
	by := strings.TrimSpace(c.PostForm("by"))
	switch {
	case note == "":
		h.fail(c, http.StatusUnprocessableEntity, "Note required", "Say why the finding is acknowledged: the note is required.", back)
		return
	case len(note) > maxNote:
		h.fail(c, http.StatusUnprocessableEntity, "Note too long", "The note must be at most 2000 bytes.", back)
		return
	case len(by) > maxBy:
		h.fail(c, http.StatusUnprocessableEntity, "Name too long", "The name must be at most 200 bytes.", back)
		return
	}
	if by == "" {
		by = "dashboard"
	}
	_, err := h.store.FindingAcknowledge(c.Request.Context(), id, by, note)
	switch {
	case errors.Is(err, models.ErrConflict):
		h.fail(c, http.StatusConflict, "Already resolved", "The finding was resolved before the acknowledgement arrived; nothing was changed.", back)
		return
	case err != nil:
		h.storeError(c, err, "finding", back)
		return
	}
	h.log.WithField("finding_id", id).Info("finding acknowledged")
	u, _ := url.Parse(back) // returnPath gives a path that parses
	q := u.Query()
	q.Set("acked", id)
	u.RawQuery = q.Encode()
	c.Redirect(http.StatusSeeOther, u.String())
}

// ackedNotice returns id when it names an acknowledged finding, for the
// notice shown after an acknowledge; for anything else there is no notice,
// so that a crafted link cannot put its words on the page.
func (h *handler) ackedNotice(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	f, err := h.store.FindingGet(ctx, id)
	if err != nil || f.AcknowledgedAt == nil {
		return ""
	}
	return f.ID
}

// returnPath keeps the page an acknowledge returns to on the findings list,
// a payout's page or a run's page.
func returnPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		(u.Path != "/findings" && !strings.HasPrefix(u.Path, "/payouts/") && !strings.HasPrefix(u.Path, "/runs/")) || strings.Contains(u.Path, "..") {
		return "/findings"
	}
	if u.RawQuery == "" {
		return u.Path
	}
	return u.Path + "?" + u.RawQuery
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
