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
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
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
}

// action is what a command does.
type action func(ctx context.Context, e env) error

// command is one of payoutd's commands: its name, the arguments its usage
// line shows, and a setup that registers its own flags and returns its
// action.
type command struct {
	name  string
	args  string
	setup func(fs *flag.FlagSet) action
}

func commands() []command {
	return []command{
		{name: "serve", setup: serveCommand},
		{name: "migrate", setup: migrateCommand},
		{name: "reconcile", args: "--once [--fail-on-findings]", setup: reconcileCommand},
		{name: "report", args: "--from DATE --to DATE [--format csv|json]", setup: reportCommand},
		{name: "sim", setup: simCommand},
		{name: "demo", setup: demoCommand},
		{name: "replay", args: "[--state STATE] [--from DATE --to DATE]", setup: replayCommand},
		{name: "healthcheck", args: "[--url URL] [--timeout 3s]", setup: healthcheckCommand},
	}
}

// run is the whole program; main only maps its error to an exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	gin.SetMode(gin.ReleaseMode)

	name, rest := "serve", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
		}
	}
	if cmd == nil {
		return usageError{fmt.Sprintf("unknown command %q; %s", name, usage())}
	}
	fs := flag.NewFlagSet("payoutd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "config.yaml", "path to the configuration file")
	act := cmd.setup(fs)
	if err := fs.Parse(rest); err != nil {
		return usageError{flagError(err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; %s", fs.Arg(0), usage())}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := loadConfig(*configPath, explicit, getenv)
	if err != nil {
		return usageError{strings.ReplaceAll("config: "+err.Error(), "\n", "; ")}
	}
	return act(ctx, env{cfg: cfg, log: newLogger(cfg, stderr), stdout: stdout, getenv: getenv, explicitConfig: explicit})
}
