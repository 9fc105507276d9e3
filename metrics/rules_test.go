package metrics_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
)

// rulesFile is the example Prometheus alerting rules shipped with payoutd.
const rulesFile = "../deploy/prometheus/payoutd-rules.yml"

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// metricName finds the series a PromQL expression selects: payoutd's own,
// and the process collector's.
var metricName = regexp.MustCompile(`\b(payoutd_[a-z0-9_]+|process_[a-z0-9_]+)\b`)

// TestPrometheusRulesReferenceServedMetrics checks the rules file without
// promtool: it is strict YAML of Prometheus's rule-file shape, every rule is
// complete, its brackets balance, and every metric it names is one
// payoutd serves.
func TestPrometheusRulesReferenceServedMetrics(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	var rf ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&rf))

	served := servedMetrics(t)
	want := []string{
		"payoutd_stuck_payouts", "payoutd_findings_open", "payoutd_reconcile_degraded",
		"payoutd_reconcile_last_success_timestamp_seconds", "payoutd_inbox_oldest_pending_age_seconds",
		"payoutd_webhooks_received_total", "payoutd_alert_outbox_oldest_pending_age_seconds",
		"payoutd_coinflow_responses_total",
	}
	used := map[string]bool{}
	names := map[string]bool{}
	require.NotEmpty(t, rf.Groups)
	for _, g := range rf.Groups {
		require.NotEmpty(t, g.Name)
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			require.False(t, names[r.Alert], "duplicate alert %s", r.Alert)
			names[r.Alert] = true
			require.NotEmpty(t, r.Labels["severity"], r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			if r.For != "" {
				_, err := time.ParseDuration(r.For)
				require.NoError(t, err, r.Alert)
			}
			require.True(t, balanced(r.Expr), "%s: unbalanced brackets in %q", r.Alert, r.Expr)
			refs := metricName.FindAllString(r.Expr, -1)
			require.NotEmpty(t, refs, "%s names no metric", r.Alert)
			for _, name := range refs {
				require.True(t, served[name], "%s: %s is not a metric payoutd serves", r.Alert, name)
				used[name] = true
			}
			if strings.Contains(r.Expr, "payoutd_webhooks_received_total") {
				require.Contains(t, r.Expr, `outcome="unauthenticated"`, "the 401 rule counts refused webhooks")
			}
		}
	}
	for _, name := range want {
		require.True(t, used[name], "no rule watches %s", name)
	}
}

// servedMetrics registers every collector serve registers, touches the
// labelled ones so that they are gathered, and returns the names a scrape
// shows (histograms with their suffixes).
func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	store := dbtest.SQLite(t, dbtest.Options{})
	m := metrics.New()
	rec := m.NewReconcile()
	m.RegisterBacklog(store.InboxBacklog, time.Now)
	alerts := m.RegisterFindings(store, time.Now)
	m.NewCoinflow([]string{"list_withdraws"}, []string{"5xx"})
	m.WebhooksReceived.WithLabelValues("x", "unauthenticated")
	m.WebhookEventsProcessed.WithLabelValues("x", "applied")
	m.HTTPDuration.WithLabelValues("GET", "/", "200")
	rec.Runs.WithLabelValues("ok")
	alerts.Deliveries.WithLabelValues("slack", metrics.DeliveryGaveUp)
	_, err := store.WalletSnapshotAdd(t.Context(), "run", time.Now(), 1)
	require.NoError(t, err)

	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	out := map[string]bool{}
	for _, mf := range mfs {
		out[mf.GetName()] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			out[mf.GetName()+suffix] = true
		}
	}
	return out
}

func balanced(s string) bool {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, r := range s {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0 && !inString
}
