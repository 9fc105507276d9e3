package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/models"
)

// Sink names, as outbox rows store them.
const (
	SinkLog       = "log"
	SinkSlack     = "slack"
	SinkWebhook   = "webhook"
	SinkPagerDuty = "pagerduty"
)

// NotifierConfig tunes a Notifier. Zero values take the defaults in
// NewNotifier.
type NotifierConfig struct {
	// Sinks receive the alerts; the log sink is always added.
	Sinks []string
	// RenotifyInterval is how long an open finding waits before it is
	// announced again. Default 24h.
	RenotifyInterval time.Duration
	// SummaryThreshold: when more findings than this open (or resolve) in
	// one sweep, each sink gets one summary alert for them. Default 10.
	SummaryThreshold int
	// SkipResolved turns off alerts for resolved findings.
	SkipResolved bool
	// DashboardURL, when set, is linked from every alert.
	DashboardURL string
	// Limit bounds the findings one sweep handles of each sort (new,
	// re-announced, resolved); the next sweep takes the rest. Default 1000.
	Limit int
}

// Notifier turns findings into outbox rows.
type Notifier struct {
	store *models.Store
	log   *logrus.Entry
	cfg   NotifierConfig
	mu    sync.Mutex // one sweep at a time in this process
	// since is the mark of the last sweep that read every change it
	// listed (see Sweep); zero in a new process, which reads them all once.
	since models.FindingMark
}

// NewNotifier returns a notifier writing to store's outbox.
func NewNotifier(store *models.Store, log *logrus.Entry, cfg NotifierConfig) (*Notifier, error) {
	if cfg.RenotifyInterval < 0 || cfg.SummaryThreshold < 0 || cfg.Limit < 0 {
		return nil, errors.New("alert notifier: a negative setting")
	}
	cfg.RenotifyInterval = cmp.Or(cfg.RenotifyInterval, 24*time.Hour)
	cfg.SummaryThreshold = cmp.Or(cfg.SummaryThreshold, 10)
	cfg.Limit = cmp.Or(cfg.Limit, 1000)
	sinks := []string{SinkLog}
	for _, s := range cfg.Sinks {
		if s != SinkLog {
			sinks = append(sinks, s)
		}
	}
	cfg.Sinks = sinks
	return &Notifier{store: store, log: log, cfg: cfg}, nil
}

// SweepResult says what one sweep read and announced.
type SweepResult struct {
	Opened     int  // findings announced for the first time
	Renotified int  // open findings announced again
	Resolved   int  // announced findings whose resolution was handled
	Summary    bool // a summary alert stands for some of them
	Rows       int  // outbox rows written
	// Read counts the findings the sweep loaded: those opened or resolved
	// since the last sweep, and those due to be announced again.
	Read int
}

// Sweep announces what changed since the last sweep, in one transaction:
// findings opened and not yet announced, open findings last announced
// before the re-notify interval, and announced findings that resolved. The
// claims in alert_notices make each announcement happen once, also when
// several processes sweep the same database.
//
// A sweep reads only the findings that opened or resolved since the mark
// of the last sweep (models.FindingMark), through an index, instead of
// every open finding: a sweep every 10 seconds over 10,000 open findings
// read them all each time. The re-announcements are read by when they are
// due, through the index on alert_notices. The mark moves on only after a
// sweep that committed and read all it listed: one that hit its Limit
// leaves the rest for the next, which reads from the same mark.
func (n *Notifier) Sweep(ctx context.Context) (SweepResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var (
		res  SweepResult
		mark models.FindingMark
		more bool
	)
	err := n.store.Tx(ctx, func(tx *models.Store) error {
		res, more = SweepResult{}, false
		var err error
		if mark, err = tx.FindingMarkNow(ctx); err != nil {
			return err
		}
		now := tx.Now()
		fresh, err := tx.FindingListUnannounced(ctx, n.since, n.cfg.Limit)
		if err != nil {
			return err
		}
		newClaims, err := tx.AlertNoticeClaimNew(ctx, findingIDs(fresh))
		if err != nil {
			return err
		}
		stale, err := tx.FindingListAnnouncedBefore(ctx, now.Add(-n.cfg.RenotifyInterval), n.cfg.Limit)
		if err != nil {
			return err
		}
		againClaims, err := tx.AlertNoticeClaimRenotify(ctx, findingIDs(stale), now.Add(-n.cfg.RenotifyInterval))
		if err != nil {
			return err
		}
		gone, err := tx.FindingListAnnouncedResolved(ctx, n.since, n.cfg.Limit)
		if err != nil {
			return err
		}
		released, err := tx.AlertNoticeRelease(ctx, findingIDs(gone))
		if err != nil {
			return err
		}
		more = len(fresh) == n.cfg.Limit || len(gone) == n.cfg.Limit
		res.Read = len(fresh) + len(stale) + len(gone)

		opened := pick(fresh, newClaims)
		opened = append(opened, pick(stale, againClaims)...)
		var resolved []announced
		if !n.cfg.SkipResolved {
			resolved = pick(gone, released)
		}
		res.Opened, res.Renotified, res.Resolved = len(newClaims), len(againClaims), len(released)
		rows, summary, err := n.rows(now, opened, resolved)
		if err != nil {
			return err
		}
		res.Summary = summary
		stored, err := tx.AlertEnqueue(ctx, rows)
		res.Rows = int(stored)
		return err
	})
	if err != nil {
		return SweepResult{}, fmt.Errorf("sweep findings for alerts: %w", err)
	}
	if !more {
		n.since = mark
	}
	if res.Rows > 0 {
		n.log.WithFields(logrus.Fields{
			"opened": res.Opened, "renotified": res.Renotified, "resolved": res.Resolved,
			"summary": res.Summary, "rows": res.Rows,
		}).Debug("alerts enqueued")
	}
	return res, nil
}

// rows builds the outbox rows of one sweep: one per alert and sink, with a
// summary per sink in place of the alerts of a group over the threshold.
// PagerDuty always gets resolutions one by one: each closes the incident
// its finding opened.
func (n *Notifier) rows(now time.Time, opened, resolved []announced) ([]models.AlertOutbox, bool, error) {
	var out []models.AlertOutbox
	add := func(a *Alert, kind models.AlertKind, findingID *string, sinks []string) error {
		a.Version, a.CreatedAt = 1, now
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode alert %s: %w", a.ID, err)
		}
		for _, s := range sinks {
			out = append(out, models.AlertOutbox{
				DedupKey: a.ID + ":" + s, Sink: s, Kind: kind, FindingID: findingID, Payload: string(b),
			})
		}
		return nil
	}
	single := func(x announced, typ string, kind models.AlertKind, sinks []string) error {
		id := x.finding.ID
		a := &Alert{Type: typ, Finding: findingView(x.finding), DashboardURL: dashboardLink(n.cfg.DashboardURL, id)}
		if kind == models.AlertOpened {
			a.ID = fmt.Sprintf("opened:%s:%d", id, x.n)
			a.Notification, a.Renotification = x.n, x.n > 1
		} else {
			a.ID = "resolved:" + id
		}
		return add(a, kind, &id, sinks)
	}

	summary := &Summary{}
	if len(opened) > n.cfg.SummaryThreshold {
		summary.Opened = group(opened)
	} else {
		for _, x := range opened {
			if err := single(x, TypeOpened, models.AlertOpened, n.cfg.Sinks); err != nil {
				return nil, false, err
			}
		}
	}
	summarized := len(resolved) > n.cfg.SummaryThreshold
	if summarized {
		summary.Resolved = group(resolved)
	}
	for _, x := range resolved {
		sinks := n.cfg.Sinks
		if summarized {
			sinks = nil
			if slices.Contains(n.cfg.Sinks, SinkPagerDuty) {
				sinks = []string{SinkPagerDuty}
			}
		}
		if err := single(x, TypeResolved, models.AlertResolved, sinks); err != nil {
			return nil, false, err
		}
	}
	if summary.Opened == nil && summary.Resolved == nil {
		return out, false, nil
	}
	sinks := n.cfg.Sinks
	if summary.Opened == nil {
		// Only resolutions are summarised, and PagerDuty has each of them.
		sinks = slices.DeleteFunc(slices.Clone(sinks), func(s string) bool { return s == SinkPagerDuty })
	}
	a := &Alert{Type: TypeSummary, ID: "summary:" + models.NewID(), Summary: summary, DashboardURL: dashboardLink(n.cfg.DashboardURL, "")}
	if err := add(a, models.AlertSummary, nil, sinks); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

func findingIDs(fs []models.Finding) []string {
	ids := make([]string, len(fs))
	for i := range fs {
		ids[i] = fs[i].ID
	}
	return ids
}

// pick keeps the findings this sweep claimed, in the order they were listed.
func pick(fs []models.Finding, claims []models.AlertNoticeClaim) []announced {
	n := make(map[string]int, len(claims))
	for _, c := range claims {
		n[c.FindingID] = c.Notifications
	}
	var out []announced
	for i := range fs {
		if c, ok := n[fs[i].ID]; ok {
			out = append(out, announced{finding: &fs[i], n: c})
		}
	}
	return out
}
