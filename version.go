package main

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/payoutd/payoutd/metrics"
)

// Set at build time (scripts/release, the Dockerfile, the .deb):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD) -X main.date=2026-12-07T00:00:00Z"
//
// A plain go build leaves them empty; buildVersion then falls back on what
// the Go toolchain stamped into the binary (module version, VCS revision
// and time), and "dev"/"unknown" when there is none.
var (
	version string
	commit  string
	date    string
)

// BuildVersion is what this binary says it is.
type BuildVersion struct {
	Version string
	Commit  string
	Date    string
	Go      string
}

// buildVersion reads the linker-set values, then the toolchain's stamps.
func buildVersion() BuildVersion {
	v := BuildVersion{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.GoVersion != "" {
			v.Go = info.GoVersion
		}
		if v.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Commit == "":
				v.Commit = s.Value
			case s.Key == "vcs.time" && v.Date == "":
				v.Date = s.Value
			case s.Key == "vcs.modified" && s.Value == "true" && v.Commit != "" && commit == "" && !strings.HasSuffix(v.Commit, "-dirty"):
				v.Commit += "-dirty"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.Date == "" {
		v.Date = "unknown"
	}
	return v
}

// String is the line payoutd version prints: the full commit, so that a
// binary can be traced to its source.
func (v BuildVersion) String() string {
	return "payoutd " + v.Version + " (commit " + v.Commit + ", built " + v.Date + ", " + v.Go + ")"
}

// metric is v as the payoutd_build_info metric's labels.
func (v BuildVersion) metric() metrics.BuildInfo {
	return metrics.BuildInfo{Version: v.Version, Commit: v.Commit, Date: v.Date, GoVersion: v.Go}
}
