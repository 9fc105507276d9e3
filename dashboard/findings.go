package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
)

// The filter choices, in the order the forms list them.
var (
	findingStatuses = []models.FindingStatus{models.FindingOpen, models.FindingAcknowledged, models.FindingSnoozed, models.FindingResolved}
	findingKinds    = models.FindingKinds()
	severities      = []models.Severity{models.SeverityError, models.SeverityWarning, models.SeverityInfo}
)

// Limits of the acknowledge form, as the API has them.
const (
	maxNote = 2000
	maxBy   = 200
)

type findingsData struct {
	Status, Kind, Severity choiceField
	PayoutID               string
	Findings               []models.Finding
	Next                   string          // the next page's link, or ""
	Self                   string          // this page's link, where an acknowledge returns to
	Acked                  string          // the id just acknowledged, for the notice
	Snoozed                *models.Finding // the finding just snoozed, for the notice
	Runbook                *RunbookEntry   // the kind filtered on, if any
}

func (h *handler) findings(c *gin.Context) {
	l := newListing(c, "/findings", "finding", "status", "kind", "severity", "payout_id")
	l.strict(c, "acked", "snoozed") // the notices after an acknowledgement or a snooze
	f := models.FindingFilter{
		Status:   oneOf(&l, "status", func(v models.FindingStatus) bool { return slices.Contains(findingStatuses, v) }, findingStatuses),
		Kind:     oneOf(&l, "kind", func(v models.FindingKind) bool { return slices.Contains(findingKinds, v) }, findingKinds),
		Severity: oneOf(&l, "severity", func(v models.Severity) bool { return slices.Contains(severities, v) }, severities),
		PayoutID: l.get("payout_id"),
	}
	if h.rejected(c, l) {
		return
	}
	fs, next, ok := listPage(h, c, l, func(ctx context.Context, p models.Page) ([]models.Finding, string, error) {
		f.Page = p
		return h.store.FindingList(ctx, f)
	})
	if !ok {
		return
	}
	d := findingsData{
		Status:   choice("Status", "status", f.Status, findingStatuses),
		Kind:     choice("Kind", "kind", f.Kind, findingKinds),
		Severity: choice("Severity", "severity", f.Severity, severities),
		PayoutID: f.PayoutID, Findings: fs, Next: next, Self: l.link(l.page.Cursor),
		Acked:   h.ackedNotice(c.Request.Context(), c.Query("acked")),
		Snoozed: h.snoozedNotice(c.Request.Context(), c.Query("snoozed")),
	}
	if f.Kind != "" {
		e := runbookFor(f.Kind)
		d.Runbook = &e
	}
	h.render(c, http.StatusOK, "findings", view{Title: "Findings", Active: "findings", Data: d})
}

// acknowledge records the note on an open finding under the name of the
// token the session logged in with; a typed name is not taken.
// requireSession and requireCSRF have run: this is a form of this
// dashboard, posted by a logged-in user.
func (h *handler) acknowledge(c *gin.Context) {
	id := c.Param("id")
	back := returnPath(c.PostForm("return"))
	note := strings.TrimSpace(c.PostForm("note"))
	switch {
	case note == "":
		h.fail(c, http.StatusUnprocessableEntity, "Note required", "Say why the finding is acknowledged: the note is required.", back)
		return
	case len(note) > maxNote:
		h.fail(c, http.StatusUnprocessableEntity, "Note too long", "The note must be at most 2000 bytes.", back)
		return
	}
	by := principal.Name(c)
	_, err := h.store.FindingAcknowledge(c.Request.Context(), id, by, note)
	switch {
	case errors.Is(err, models.ErrConflict):
		h.fail(c, http.StatusConflict, "Already resolved", "The finding was resolved before the acknowledgement arrived; nothing was changed.", back)
		return
	case err != nil:
		h.storeError(c, err, "finding", back)
		return
	}
	h.logger(c).WithFields(logrus.Fields{"finding_id": id, "principal": by}).Info("finding acknowledged")
	backTo(c, back, "acked", id)
}

// snooze snoozes an unresolved finding until the start (UTC) of the date
// the form gives, with its note, recorded as the logged-in user's.
// requireSession and requireCSRF have run.
func (h *handler) snooze(c *gin.Context) {
	id := c.Param("id")
	back := returnPath(c.PostForm("return"))
	note := strings.TrimSpace(c.PostForm("note"))
	until, err := time.Parse(time.DateOnly, strings.TrimSpace(c.PostForm("until")))
	if err != nil {
		h.fail(c, http.StatusUnprocessableEntity, "Date required", "Choose the date until which the finding can wait.", back)
		return
	}
	if p := models.SnoozeProblems(h.now(), until, note); len(p) > 0 {
		msg := "The note is required: say why the finding can wait, in at most 2000 bytes."
		if _, bad := p["until"]; bad {
			msg = "The date must be after today and at most 90 days ahead."
		}
		h.fail(c, http.StatusUnprocessableEntity, "Snooze not possible", msg, back)
		return
	}
	who := principal.Name(c)
	_, err = h.store.FindingSnooze(c.Request.Context(), id, until, who, note)
	switch {
	case errors.Is(err, models.ErrConflict):
		h.fail(c, http.StatusConflict, "Already resolved", "The finding was resolved before the snooze arrived; nothing was changed.", back)
		return
	case errors.Is(err, models.ErrInvalidSnooze):
		// The clock passed the date between the check and the write.
		h.fail(c, http.StatusUnprocessableEntity, "Snooze not possible", "The date must be after today and at most 90 days ahead.", back)
		return
	case err != nil:
		h.storeError(c, err, "finding", back)
		return
	}
	h.logger(c).WithFields(logrus.Fields{"finding_id": id, "principal": who}).Info("finding snoozed")
	backTo(c, back, "snoozed", id)
}

// backTo sends the browser back to back, a path returnPath gave, with
// key=id added to its query for the page's notice.
func backTo(c *gin.Context, back, key, id string) {
	u, _ := url.Parse(back) // returnPath gives a path that parses
	q := u.Query()
	q.Set(key, id)
	u.RawQuery = q.Encode()
	c.Redirect(http.StatusSeeOther, u.String())
}

// snoozedNotice returns the finding id names when it is snoozed now, for
// the notice after a snooze; nothing for anything else, so that a crafted
// link cannot put its words on the page.
func (h *handler) snoozedNotice(ctx context.Context, id string) *models.Finding {
	if id == "" {
		return nil
	}
	f, err := h.store.FindingGet(ctx, id)
	if err != nil || !f.Snoozed(h.now()) {
		return nil
	}
	return f
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
