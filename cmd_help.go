package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// help prints payoutd's usage, or, given a command's name (and a
// subcommand's), that command's usage and flags.
func help(w io.Writer, args []string) error {
	if len(args) == 0 {
		return overallHelp(w)
	}
	if strings.HasPrefix(args[0], "-") {
		return usageError{fmt.Sprintf("help takes a command's name, not %q; %s", args[0], usage())}
	}
	path, rest, err := lookupForHelp(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; %s", rest[0], usage())}
	}
	return commandHelp(w, path)
}

// lookupForHelp is lookup for help's arguments, where a group of
// subcommands needs none: "payoutd help config".
func lookupForHelp(args []string) ([]command, []string, error) {
	for _, c := range commands() {
		if c.name == args[0] && len(c.subs) > 0 && len(args) == 1 {
			return []command{c}, nil, nil
		}
	}
	return lookup(args)
}

func overallHelp(w io.Writer) error {
	var b strings.Builder
	b.WriteString("payoutd tracks the merchant's Coinflow payouts: it stores Coinflow's webhooks exactly once,\n" +
		"reconciles its record against Coinflow's API, and shows finance what does not add up.\n\n" +
		"usage: payoutd [COMMAND] [flags]   (without a command: serve)\n\ncommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, path := range runnable() {
		fmt.Fprintf(tw, "  %s\t%s\n", commandName(path), path[len(path)-1].summary)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\t%s\n", "print this, or a command's usage and flags (also -h, --help, COMMAND --help)")
	tw.Flush()
	b.WriteString("\nEvery command takes --config FILE (default config.yaml in the working directory). Every\n" +
		"configuration key can be set by an environment variable: PAYOUTD_ and the key's path in upper\n" +
		"case, \"_\" for \".\" (database.url: PAYOUTD_DATABASE_URL); the environment wins.\n" +
		"\"payoutd help COMMAND\" lists a command's flags; --version prints the version.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// commandHelp prints a command's usage line, its summary and every flag
// with its default; for a group (config), its subcommands.
func commandHelp(w io.Writer, path []command) error {
	cmd := path[len(path)-1]
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	if len(cmd.subs) > 0 {
		fmt.Fprintf(&b, "usage: payoutd %s SUBCOMMAND [flags]\n\n%s.\n\nsubcommands:\n", commandName(path), capitalize(cmd.summary))
		for _, s := range cmd.subs {
			fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
		}
		tw.Flush()
		fmt.Fprintf(&b, "\n\"payoutd help %s SUBCOMMAND\" lists a subcommand's flags.\n", commandName(path))
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "usage: %s\n\n%s.\n\nflags:\n", usageLine(path), capitalize(cmd.summary))
	fs, _, _ := newFlagSet(path)
	fs.VisitAll(func(f *flag.Flag) {
		typ, text := flag.UnquoteUsage(f)
		name, def := "--"+f.Name, f.DefValue
		if typ != "" { // a bool flag has none
			name += " " + typ
		}
		if typ == "string" || typ == "file" {
			def = fmt.Sprintf("%q", def)
		}
		fmt.Fprintf(tw, "  %s\t%s (default %s)\n", name, text, def)
	})
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// commandName is a command's name as typed: "sim", "config check".
func commandName(path []command) string {
	names := make([]string, len(path))
	for i, c := range path {
		names[i] = c.name
	}
	return strings.Join(names, " ")
}

// commandUsage is the one-line usage of one command, for its errors.
func commandUsage(path []command) string {
	cmd := path[len(path)-1]
	if len(cmd.subs) > 0 {
		var subs []string
		for _, s := range cmd.subs {
			subs = append(subs, s.name)
		}
		return fmt.Sprintf("usage: payoutd %s %s [flags]", commandName(path), strings.Join(subs, "|"))
	}
	return fmt.Sprintf("usage: %s; \"payoutd help %s\" lists the flags", usageLine(path), commandName(path))
}

// usageLine is a command's synopsis: "payoutd reconcile --once
// [--fail-on-findings] [flags]".
func usageLine(path []command) string {
	return strings.Join(strings.Fields("payoutd "+commandName(path)+" "+path[len(path)-1].args+" [flags]"), " ")
}

// usage is the one-line synopsis of every command, for usage errors.
func usage() string {
	var parts []string
	for _, path := range runnable() {
		parts = append(parts, strings.TrimSpace(commandName(path)+" "+path[len(path)-1].args))
	}
	return "usage: payoutd [" + strings.Join(parts, "|") + "] [--config PATH]; \"payoutd help COMMAND\" lists a command's flags"
}

// runnable lists the commands that run, each with its parents: the
// subcommands of a group, not the group.
func runnable() [][]command {
	var out [][]command
	for _, c := range commands() {
		if len(c.subs) == 0 {
			out = append(out, []command{c})
		}
		for _, s := range c.subs {
			out = append(out, []command{c, s})
		}
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
