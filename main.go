// Command payoutd tracks merchant-initiated Coinflow payouts: it stores
// Coinflow's payout and KYC webhooks durably exactly once, applies them to
// its record of payouts and withdrawers, and serves that record to finance.
//
// Package main is the composition root: main.go dispatches to one file per
// command (cmd_*.go), wiring.go builds what the commands share from the
// configuration, and errors.go maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
)

func main() {
	if err := runEnviron(context.Background(), os.Args, os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "payoutd:", err)
		os.Exit(exitCode(err))
	}
}

// env is what every command is given once its flags are parsed and the
// configuration is loaded.
type env struct {
	cfg    Config
	log    *logrus.Logger
	stdout io.Writer
	getenv func(string) string
	// explicitConfig: --config was given (the demo then keeps its log level).
	explicitConfig bool
	// configPath is --config, for the commands that load the configuration
	// themselves (configOwn).
	configPath string
	// stderr is where a command's logger writes.
	stderr io.Writer
	// envNames are the names of the environment's variables, when the
	// environment can be listed (nil otherwise).
	envNames []string
}

// action is what a command does.
type action func(ctx context.Context, e env) error

// configUse is what run does with the configuration before a command's
// action.
type configUse int

const (
	// configLoaded: run loads and validates it, and a problem stops the
	// command with exit 2.
	configLoaded configUse = iota
	// configOwn: the action loads it (config check reports the problems
	// itself).
	configOwn
	// configIgnored: the command needs none (version); --config is still
	// accepted, as by every command.
	configIgnored
)

// command is one of payoutd's commands: its name, the arguments its usage
// line shows, a one-line summary for help, a setup that registers its own
// flags and returns its action, and its subcommands (config check).
type command struct {
	name    string
	args    string
	summary string
	setup   func(fs *flag.FlagSet) action
	config  configUse
	subs    []command
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the daemon: webhooks, API, dashboard, metrics and the schedules (the default command)", setup: serveCommand},
		{name: "migrate", summary: "apply the database migrations and exit", setup: migrateCommand},
		{name: "reconcile", args: "--once [--fail-on-findings]", summary: "run every reconciliation check once and print a summary", setup: reconcileCommand},
		{name: "report", args: "--from DATE --to DATE [--report NAME] [--format csv|json]", summary: "write the finance report for a range of days to stdout", setup: reportCommand},
		{name: "sim", summary: "run the Coinflow emulator on its own", setup: simCommand},
		{name: "demo", summary: "run the emulator, payoutd on a fresh database and synthetic payout traffic", setup: demoCommand},
		{name: "replay", args: "[--state STATE] [--from DATE --to DATE]", summary: "apply stored webhooks again, never applying an effect twice", setup: replayCommand},
		{name: "healthcheck", args: "[--url URL] [--timeout 3s]", summary: "ask /readyz once; exit 0 when ready, 1 otherwise (the container's HEALTHCHECK)", setup: healthcheckCommand, config: configOwn},
		{name: "config", summary: "check the configuration", subs: []command{
			{name: "check", summary: "print the effective configuration, secrets redacted; exit 2 listing every problem", setup: configCheckCommand, config: configOwn},
		}},
		{name: "version", summary: "print the version, commit, build date and Go version", setup: versionCommand, config: configIgnored},
	}
}

// environment is how run reads the environment: get looks a variable up;
// names lists them all when the caller could (main), so that unknown
// PAYOUTD_ variables can be reported.
type environment struct {
	get   func(string) string
	names []string
}

// run is the whole program; main only maps its error to an exit code.
// getenv can only look variables up, so run cannot warn about unknown
// PAYOUTD_ variables: runEnviron does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return execute(ctx, args, environment{get: getenv}, stdout, stderr)
}

// runEnviron is run on a whole environment, "KEY=value" entries as
// os.Environ gives them: it also warns about each PAYOUTD_ variable that
// nothing reads.
func runEnviron(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	vars := make(map[string]string, len(environ))
	var names []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := vars[k]; !dup { // the first wins, as for os.Getenv
			vars[k] = v
			names = append(names, k)
		}
	}
	return execute(ctx, args, environment{get: func(k string) string { return vars[k] }, names: names}, stdout, stderr)
}

// execute is run's body: help and version first, then the command's
// flags, the configuration (unless the command loads its own or needs
// none), the unknown-variable warnings and the command's action.
func execute(ctx context.Context, args []string, environ environment, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	gin.SetMode(gin.ReleaseMode)

	rest := args[1:]
	if len(rest) > 0 {
		switch rest[0] {
		case "help", "-h", "-help", "--help":
			return help(stdout, rest[1:])
		case "-version", "--version":
			rest = append([]string{"version"}, rest[1:]...)
		}
	}
	path, rest, err := lookup(rest)
	if err != nil {
		return err
	}
	cmd := path[len(path)-1]
	fs, configPath, act := newFlagSet(path)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return commandHelp(stdout, path)
		}
		return usageError{fmt.Sprintf("%v; %s", err, commandUsage(path))}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; %s", fs.Arg(0), commandUsage(path))}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	e := env{stdout: stdout, stderr: stderr, getenv: environ.get, explicitConfig: explicit, configPath: *configPath, envNames: environ.names}
	if cmd.config == configLoaded {
		cfg, err := loadConfig(*configPath, explicit, environ.get)
		if err != nil {
			// The warnings may explain the problem (a misspelt variable);
			// the configuration's own logger settings are not to be trusted.
			warnUnknownEnv(newLogger(defaultConfig(), stderr), environ.names)
			return usageError{strings.ReplaceAll("config: "+err.Error(), "\n", "; ")}
		}
		e.cfg, e.log = cfg, newLogger(cfg, stderr)
		warnUnknownEnv(e.log, environ.names)
	}
	return act(ctx, e)
}

// lookup finds the command that args name (serve when they start with a
// flag), with its parents, and returns the arguments left for its flags.
func lookup(args []string) ([]command, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		args = append([]string{"serve"}, args...)
	}
	var path []command
	list := commands()
	for {
		var found *command
		for _, c := range list {
			if c.name == args[0] {
				found = &c
				break
			}
		}
		if found == nil {
			if len(path) == 0 {
				return nil, nil, usageError{fmt.Sprintf("unknown command %q; %s", args[0], usage())}
			}
			return nil, nil, usageError{fmt.Sprintf("unknown command %q; %s", commandName(path)+" "+args[0], commandUsage(path))}
		}
		path, args = append(path, *found), args[1:]
		if len(found.subs) == 0 {
			return path, args, nil
		}
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			if len(args) > 0 && isHelpFlag(args[0]) {
				return path, args, nil // help on the group
			}
			return nil, nil, usageError{fmt.Sprintf("%s needs a subcommand; %s", commandName(path), commandUsage(path))}
		}
		list = found.subs
	}
}

// newFlagSet registers the flags of the command at the end of path:
// --config, which every command takes, and its own. A group of
// subcommands (config) has no action.
func newFlagSet(path []command) (*flag.FlagSet, *string, action) {
	cmd := path[len(path)-1]
	fs := flag.NewFlagSet("payoutd "+commandName(path), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "config.yaml", "the configuration `file`; a missing config.yaml is no error, a named file must exist")
	var act action
	if cmd.setup != nil {
		act = cmd.setup(fs)
	}
	return fs, configPath, act
}

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}
