package main

import (
	"bytes"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runOK runs payoutd with args and requires exit 0 and nothing on stderr;
// it returns stdout.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), append([]string{"payoutd"}, args...), getenvFrom(nil), &stdout, &stderr)
	require.NoError(t, err, "payoutd %v", args)
	require.Empty(t, stderr.String(), "payoutd %v", args)
	return stdout.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	overall := runOK(t, "--help")
	for _, form := range [][]string{{"-h"}, {"help"}, {"-help"}} {
		require.Equal(t, overall, runOK(t, form...), "payoutd %v", form)
	}
	require.Contains(t, overall, "usage: payoutd [COMMAND] [flags]")
	for _, path := range runnable() {
		name, summary := commandName(path), path[len(path)-1].summary
		require.NotEmpty(t, summary, "command %q needs a one-line summary for help", name)
		require.Regexp(t, `(?m)^  `+regexp.QuoteMeta(name)+` +`+regexp.QuoteMeta(summary)+`$`, overall)
	}
	require.Contains(t, overall, "help [COMMAND]")
}

func TestCommandHelpListsEveryFlagWithDefault(t *testing.T) {
	for _, path := range runnable() {
		name := commandName(path)
		t.Run(name, func(t *testing.T) {
			words := strings.Fields(name)
			out := runOK(t, append(words, "--help")...)
			require.Equal(t, out, runOK(t, append(words, "-h")...))
			require.Equal(t, out, runOK(t, append([]string{"help"}, words...)...))
			require.True(t, strings.HasPrefix(out, "usage: "+usageLine(path)+"\n"), out)
			fs, _, _ := newFlagSet(path)
			n := 0
			fs.VisitAll(func(f *flag.Flag) {
				n++
				typ, text := flag.UnquoteUsage(f)
				require.Regexp(t, `(?m)^  --`+regexp.QuoteMeta(strings.TrimSpace(f.Name+" "+typ))+` +`+regexp.QuoteMeta(text)+` \(default .*`+regexp.QuoteMeta(f.DefValue)+`.*\)$`, out)
			})
			require.Equal(t, n, strings.Count(out, "\n  --"), "one line a flag")
		})
	}
}

func TestSimHelpShowsTheEmulatorsFlags(t *testing.T) {
	out := runOK(t, "sim", "--help")
	for _, want := range []string{
		"usage: payoutd sim [flags]",
		`--api-key string      API key the emulator requires in Authorization (default "sim-api-key")`,
		`--listen string       address the emulator serves on (default "127.0.0.1:8090")`,
		"--webhook-url string  where to deliver webhooks",
		`(default "")`,
		"--balance-cents int   starting wallet balance in USD cents (default 100000000)",
		"--realtime            move the emulator clock with the wall clock",
		`--config file         the configuration file`,
	} {
		require.Contains(t, out, want)
	}
	group := runOK(t, "config", "--help")
	require.Equal(t, group, runOK(t, "help", "config"))
	require.Contains(t, group, "usage: payoutd config SUBCOMMAND [flags]")
	require.Regexp(t, `(?m)^  check +print the effective configuration`, group)
}

func TestUnknownCommandsAndBadFlagsExit2(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown command":         {[]string{"frobnicate"}, `unknown command "frobnicate"; usage: payoutd [serve|migrate|reconcile --once`},
		"help on unknown command": {[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		"help with a flag":        {[]string{"help", "--config"}, `help takes a command's name, not "--config"`},
		"unknown flag":            {[]string{"serve", "--nope"}, `flag provided but not defined: -nope; usage: payoutd serve [flags]; "payoutd help serve" lists the flags`},
		"bad flag value":          {[]string{"sim", "--seed", "many"}, `invalid value "many" for flag -seed`},
		"unexpected argument":     {[]string{"migrate", "extra"}, `unexpected argument "extra"; usage: payoutd migrate [flags]`},
		"group without a command": {[]string{"config"}, "config needs a subcommand; usage: payoutd config check [flags]"},
		"unknown subcommand":      {[]string{"config", "frob"}, `unknown command "config frob"`},
		"version with extra":      {[]string{"--version", "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append([]string{"payoutd"}, tc.args...), getenvFrom(nil), &stdout, &stderr)
			require.Error(t, err)
			require.Equal(t, 2, exitCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "\n", "one line")
			require.Empty(t, stdout.String())
		})
	}
}

func TestVersionForms(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v1.2.3", "0123abcd0123abcd0123abcd0123abcd0123abcd", "2026-12-07T04:00:00Z"
	want := fmt.Sprintf("payoutd v1.2.3 (commit 0123abcd0123abcd0123abcd0123abcd0123abcd, built 2026-12-07T04:00:00Z, %s)\n", buildVersion().Go)
	require.Regexp(t, `^go1\.`, buildVersion().Go)
	for _, form := range [][]string{{"version"}, {"--version"}, {"-version"}, {"version", "--config", "/nonexistent/payoutd.yaml"}} {
		require.Equal(t, want, runOK(t, form...), "payoutd %v", form)
	}

	version, commit, date = "", "", ""
	v := buildVersion()
	require.NotEmpty(t, v.Version, "a plain go build still says something")
	require.NotEmpty(t, v.Commit)
	require.Equal(t, fmt.Sprintf("payoutd %s (commit %s, built %s, %s)", v.Version, v.Commit, v.Date, v.Go), v.String())
}
