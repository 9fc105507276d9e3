package metrics

import "github.com/prometheus/client_golang/prometheus"

// BuildInfo is what the running binary says it is.
type BuildInfo struct {
	Version, Commit, Date, GoVersion string
}

// RegisterBuildInfo adds payoutd_build_info{version,commit,date,goversion},
// always 1: the usual way to give a build's identity to Prometheus, where a
// query joins on it to see which version each instance runs.
func (m *Metrics) RegisterBuildInfo(b BuildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "payoutd_build_info",
		Help: "The running binary's version, commit, build date and Go version; always 1.",
		ConstLabels: prometheus.Labels{
			"version": b.Version, "commit": b.Commit, "date": b.Date, "goversion": b.GoVersion,
		},
	})
	g.Set(1)
	m.Registry.MustRegister(g)
}
