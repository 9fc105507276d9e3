package main

import (
	"reflect"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"
)

// otherEnv are the PAYOUTD_ variables that the repository reads besides
// the configuration's: the tests' and CI's (internal/dbtest, e2e, .ci/run).
// They are set beside payoutd on purpose and never warn.
var (
	otherEnvPrefixes = []string{"PAYOUTD_TEST_"}
	otherEnv         = []string{"PAYOUTD_ARTIFACTS", "PAYOUTD_CHROMIUM", "PAYOUTD_CRASH_BUILD_TAGS"}
)

// unknownEnvVar is a PAYOUTD_ variable that nothing reads, with the known
// variable closest to it ("" when none is close).
type unknownEnvVar struct {
	name, suggestion string
}

// unknownEnv finds, among the environment's variable names, the PAYOUTD_
// ones that are neither a configuration key's nor another setting's, in
// name order.
func unknownEnv(names []string) []unknownEnvVar {
	leaves := configLeaves(reflect.ValueOf(Config{}), "")
	var known, tails []string
	for _, l := range leaves {
		known = append(known, strings.TrimPrefix(l.env, "PAYOUTD_"))
		tails = append(tails, strings.ToUpper(l.key[strings.LastIndex(l.key, ".")+1:]))
	}
	var out []unknownEnvVar
	for _, name := range slices.Sorted(slices.Values(names)) {
		rest, ok := strings.CutPrefix(name, "PAYOUTD_")
		if !ok || slices.Contains(known, rest) || slices.Contains(otherEnv, name) ||
			slices.ContainsFunc(otherEnvPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		u := unknownEnvVar{name: name}
		// The whole name misspelt, else a key's own name without its
		// section (PAYOUTD_WEBHOK_KEY for PAYOUTD_COINFLOW_WEBHOOK_KEY).
		if i, ok := closest(rest, known); ok {
			u.suggestion = leaves[i].env
		} else if i, ok := closest(rest, tails); ok {
			u.suggestion = leaves[i].env
		}
		out = append(out, u)
	}
	return out
}

// warnUnknownEnv logs one warning for each unknown PAYOUTD_ variable,
// naming it, never its value.
func warnUnknownEnv(log *logrus.Logger, names []string) {
	for _, u := range unknownEnv(names) {
		fields := logrus.Fields{"component": "config", "variable": u.name}
		if u.suggestion != "" {
			fields["did_you_mean"] = u.suggestion
		}
		log.WithFields(fields).Warn("unknown PAYOUTD_ environment variable ignored")
	}
}
