package alert

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/payoutd/payoutd/models"
)

// Alert types, as the generic webhook's "type" says them.
const (
	TypeOpened   = "finding.opened"
	TypeResolved = "finding.resolved"
	TypeSummary  = "findings.summary"
)

// maxSummaryIDs bounds the finding ids a summary lists.
const maxSummaryIDs = 50

// Alert is what every sink renders, stored as the outbox row's payload and
// sent as is to the generic webhook. It carries no secret.
type Alert struct {
	Version        int       `json:"version"`
	ID             string    `json:"id"`
	Type           string    `json:"type"`
	Renotification bool      `json:"renotification"`
	Notification   int       `json:"notification,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	Finding        *Finding  `json:"finding,omitempty"`
	Summary        *Summary  `json:"summary,omitempty"`
	DashboardURL   string    `json:"dashboard_url,omitempty"`
}

// Finding is a finding as alerts show it (the API's shape).
type Finding struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	Subject     string         `json:"subject"`
	Severity    string         `json:"severity"`
	Status      string         `json:"status"`
	PayoutID    *string        `json:"payout_id"`
	UserID      *string        `json:"user_id"`
	Details     map[string]any `json:"details"`
	FirstSeenAt time.Time      `json:"first_seen_at"`
	LastSeenAt  time.Time      `json:"last_seen_at"`
	ResolvedAt  *time.Time     `json:"resolved_at"`
}

// Summary stands for many findings opened (or resolved) in one sweep.
type Summary struct {
	Opened   *Group `json:"opened,omitempty"`
	Resolved *Group `json:"resolved,omitempty"`
}

// Group counts the findings a summary stands for.
type Group struct {
	Count      int            `json:"count"`
	Renotified int            `json:"renotified"` // of Count, findings announced before and still open
	BySeverity map[string]int `json:"by_severity"`
	ByKind     map[string]int `json:"by_kind"`
	FindingIDs []string       `json:"finding_ids"` // the first few
}

func findingView(f *models.Finding) *Finding {
	v := &Finding{
		ID: f.ID, Kind: string(f.Kind), Subject: f.Subject, Severity: string(f.Severity), Status: string(f.Status),
		PayoutID: f.PayoutID, UserID: f.UserID, Details: map[string]any(f.Details),
		FirstSeenAt: f.FirstSeenAt.UTC(), LastSeenAt: f.LastSeenAt.UTC(),
	}
	if f.ResolvedAt != nil {
		t := f.ResolvedAt.UTC()
		v.ResolvedAt = &t
	}
	return v
}

// announced is one finding claimed for an alert, with its notification count.
type announced struct {
	finding *models.Finding
	n       int
}

func group(fs []announced) *Group {
	g := &Group{Count: len(fs), BySeverity: map[string]int{}, ByKind: map[string]int{}}
	for _, a := range fs {
		g.BySeverity[string(a.finding.Severity)]++
		g.ByKind[string(a.finding.Kind)]++
		if a.n > 1 {
			g.Renotified++
		}
		if len(g.FindingIDs) < maxSummaryIDs {
			g.FindingIDs = append(g.FindingIDs, a.finding.ID)
		}
	}
	return g
}

// worstSeverity is the most severe severity present in g.
func (g *Group) worstSeverity() string {
	for _, s := range []models.Severity{models.SeverityError, models.SeverityWarning, models.SeverityInfo} {
		if g.BySeverity[string(s)] > 0 {
			return string(s)
		}
	}
	return string(models.SeverityInfo)
}

// counts renders a map as "a 3, b 2", largest first then by name.
func counts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, ", ")
}

// dashboardLink points at the finding on the dashboard (or the dashboard
// for a summary); empty when no dashboard URL is configured.
func dashboardLink(base, findingID string) string {
	if base == "" {
		return ""
	}
	if findingID == "" {
		return base
	}
	return strings.TrimSuffix(base, "#") + "#finding-" + findingID
}
