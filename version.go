package main

import (
	"runtime/debug"
	"strings"
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
	v := BuildVersion{Version: version, Commit: commit, Date: date}
	if info, ok := debug.ReadBuildInfo(); ok {
		v.Go = info.GoVersion
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
