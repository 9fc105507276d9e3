package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/payoutd/payoutd/report"
)

// reportFlags are payoutd report's own flags.
type reportFlags struct {
	from, to, format string
	name             reportName
}

// reportName is the value of --report, which may be given empty by
// mistake: that is an unknown report, not the default.
type reportName struct {
	name string
	set  bool
}

func (n *reportName) String() string { return n.name }

func (n *reportName) Set(v string) error {
	n.name, n.set = v, true
	return nil
}

func (f *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", "first UTC date of the report, YYYY-MM-DD")
	fs.StringVar(&f.to, "to", "", "first UTC date NOT in the report, YYYY-MM-DD (--from 2025-06-01 --to 2025-06-02 is June 1)")
	fs.StringVar(&f.format, "format", "", "csv or json (default json; csv for a --report that is only a CSV)")
	fs.Var(&f.name, "report", "the report to write: "+strings.Join(report.Names(), ", ")+
		" (default: the summary as JSON, all as CSV)")
}

// check validates the flags' values; a bad one is a usage error naming it.
func (f *reportFlags) check() (from, to time.Time, err error) {
	from, to, err = report.ParseRange(f.from, f.to)
	if re, ok := errors.AsType[*report.RangeError](err); ok {
		names := make([]string, 0, len(re.Fields))
		for name := range re.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		msgs := make([]string, len(names))
		for i, name := range names {
			msgs[i] = fmt.Sprintf("flag -%s %s", name, re.Fields[name])
		}
		return time.Time{}, time.Time{}, usageError{strings.Join(msgs, "; ") + "; " + usage()}
	}
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	name := f.name.name
	if f.name.set && !slices.Contains(report.Names(), name) {
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf("invalid value %q for flag -report: want one of %s; %s",
			name, strings.Join(report.Names(), ", "), usage())}
	}
	hasJSON := !f.name.set || name == report.NameSummary || name == report.NameAll
	switch {
	case f.format == "" && hasJSON:
		f.format = "json"
	case f.format == "":
		f.format = "csv"
	case f.format != "csv" && f.format != "json":
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf("invalid value %q for flag -format: want csv or json; %s", f.format, usage())}
	case f.format == "json" && !hasJSON:
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf(
			"flag -format json: report %s is a CSV report (summary and all also come as JSON); %s", name, usage())}
	}
	return from, to, nil
}

// reportCommand writes the finance report for a date range.
func reportCommand(fs *flag.FlagSet) action {
	var f reportFlags
	f.register(fs)
	return func(ctx context.Context, e env) error {
		from, to, err := f.check()
		if err != nil {
			return err
		}
		return writeReport(ctx, e.cfg, e.stdout, from, to, f.format, f.name.name)
	}
}

// writeReport writes the finance report for [from, to) to stdout: as JSON
// the summary; as CSV the report called name, all when name is empty. It
// reads only: a database whose migrations are behind is refused rather
// than migrated. CSV goes out as it is read (the payouts report streams);
// an error after the first row leaves stdout short and exits 1.
func writeReport(ctx context.Context, cfg Config, stdout io.Writer, from, to time.Time, format, name string) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	current, err := store.MigrationsCurrent(ctx)
	if err != nil {
		return err
	}
	if !current {
		return errors.New("database migrations are not current: run payoutd migrate first")
	}
	if format == "csv" {
		return report.WriteNamed(ctx, stdout, store, cmp.Or(name, report.NameAll), from, to)
	}
	s, err := report.Build(ctx, store, from, to)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // the age buckets "<1d" and ">7d" read as written
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write report json: %w", err)
	}
	return nil
}
