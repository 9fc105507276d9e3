package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// Run is a command's body, called as main.go's run is: with the arguments
// (the command's name first), the environment and the output streams.
type Run func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main calls run with this process's arguments, environment and output.
// When run fails it prints "name: error" to stderr and exits with
// ExitCode. Figures that miss their targets are no failure: a benchmark
// measures, it is not a test.
func Main(name string, run Run) {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(ExitCode(err))
	}
}

// ExitCode is the status a command exits with after err: 0 for none, 2
// for a bad command line (a UsageError), 1 for anything else, a setup that
// failed.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	if _, ok := errors.AsType[UsageError](err); ok {
		return 2
	}
	return 1
}

// UsageError is a bad command line.
type UsageError struct{ msg string }

func (e UsageError) Error() string { return e.msg }

// Usagef formats a UsageError.
func Usagef(format string, a ...any) error {
	return UsageError{fmt.Sprintf(format, a...)}
}

// NewFlagSet makes a command's flag set. It prints nothing: ParseFlags
// returns what is wrong, for Main to print once.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// ParseFlags parses args, which hold flags only: an unknown or malformed
// flag, or an argument, is a UsageError. So is -h, whose message lists the
// flags.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return Usagef("usage: %s [flags]\n%s", fs.Name(), defaults(fs))
	case err != nil:
		return UsageError{err.Error()}
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// defaults is the flags' usage as flag prints it, with no password in a
// default URL: defaults may come from the environment.
func defaults(fs *flag.FlagSet) string {
	fs.VisitAll(func(f *flag.Flag) {
		if u, err := url.Parse(f.DefValue); err == nil && u.User != nil {
			f.DefValue = u.Redacted()
		}
	})
	var b strings.Builder
	fs.SetOutput(&b)
	defer fs.SetOutput(io.Discard)
	fs.PrintDefaults()
	return strings.TrimRight(b.String(), "\n")
}

// BadFlags is a UsageError naming every problem found in parsed flags, or
// nil when there is none.
func BadFlags(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return UsageError{strings.Join(problems, "; ")}
}
